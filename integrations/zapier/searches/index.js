'use strict';
// Find Contact (by email) and Find Campaign (by name).

const { url } = require('../lib/api');
const { sample: contactSample } = require('../creates/contacts');

const findContact = {
  key: 'find_contact',
  noun: 'Contact',
  display: { label: 'Find Contact', description: 'Finds a contact by email.' },
  operation: {
    inputFields: [{ key: 'email', label: 'Email', required: true, helpText: 'Exact email, any case.' }],
    perform: async (z, bundle) => {
      const response = await z.request({ url: url('/api/v1/contacts'), params: { email: bundle.inputData.email, limit: 1 } });
      return response.data.data;
    },
    sample: contactSample,
  },
};

const findCampaign = {
  key: 'find_campaign',
  noun: 'Campaign',
  display: { label: 'Find Campaign', description: 'Finds a campaign by name (an exact match first, else the newest whose name contains it).' },
  operation: {
    inputFields: [{ key: 'name', label: 'Name', required: true }],
    perform: async (z, bundle) => {
      const name = String(bundle.inputData.name).trim();
      const response = await z.request({ url: url('/api/v1/campaigns'), params: { name, limit: 100 } });
      const found = response.data.data;
      const exact = found.filter((c) => c.name.toLowerCase() === name.toLowerCase());
      return (exact.length > 0 ? exact : found).slice(0, 1);
    },
    sample: {
      id: '0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f',
      name: 'Onboarding',
      status: 'active',
      step_count: 3,
      audience_contact_count: 0,
      audience_tags: ['trial'],
    },
  },
};

module.exports = { findContact, findCampaign };
