'use strict';
// PenguinMails for Zapier: the app definition (Zapier Platform CLI).

const { version } = require('./package.json');
const { version: platformVersion } = require('zapier-platform-core');
const { url, authenticate, raiseForProblems } = require('./lib/api');
const eventTriggers = require('./triggers/events');
const listTriggers = require('./triggers/lists');
const { createContact, updateContact } = require('./creates/contacts');
const sendEmail = require('./creates/send_email');
const addToCampaign = require('./creates/add_to_campaign');
const { findContact, findCampaign } = require('./searches');

const byKey = (items) => Object.fromEntries(items.map((item) => [item.key, item]));

module.exports = {
  version,
  platformVersion,
  authentication: {
    type: 'custom',
    fields: [
      {
        key: 'api_key',
        label: 'API Key',
        type: 'password',
        required: true,
        helpText:
          'A PenguinMails API key (pm_live_...), from Settings > Developers > API keys. Give it the scopes of the features you use: manage_webhooks for triggers, manage_contacts, manage_campaigns, manage_templates and send_email for actions.',
      },
    ],
    test: async (z) => (await z.request({ url: url('/api/v1/me') })).data,
    connectionLabel: (z, bundle) => `${bundle.inputData.tenant.name} (${bundle.inputData.api_key.name})`,
  },
  beforeRequest: [authenticate],
  afterResponse: [raiseForProblems],
  triggers: byKey([...eventTriggers, ...listTriggers]),
  creates: byKey([createContact, updateContact, sendEmail, addToCampaign]),
  searches: byKey([findContact, findCampaign]),
  searchOrCreates: {
    find_contact: {
      key: 'find_contact',
      display: { label: 'Find or Create Contact', description: 'Finds a contact by email, creating it if there is none.' },
      search: 'find_contact',
      create: 'create_contact',
    },
  },
};
