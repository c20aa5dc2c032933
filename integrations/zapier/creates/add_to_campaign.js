'use strict';
// Add Contact to Campaign. A campaign chooses its audience by rules: contact ids and/or
// tags. Tags first: the contact gets the campaign's first audience tag, which works even
// while the campaign runs (the scheduler picks up every subscribed contact that matches).
// A campaign with no audience tags lists contacts by id: the contact's id is added to that
// list (the campaign is sent back with its steps unchanged, which the API allows unless
// the campaign has completed).

const { url, findContact } = require('../lib/api');
const { putContact } = require('./contacts');

const withoutNulls = (object) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== null));

/** The campaign as the API takes it back in a PUT (nulls dropped). */
const asInput = (campaign, audience) => ({
  name: campaign.name,
  sender: withoutNulls(campaign.sender),
  steps: campaign.steps.map(withoutNulls),
  audience,
  schedule: campaign.schedule,
});

module.exports = {
  key: 'add_to_campaign',
  noun: 'Campaign Contact',
  display: { label: 'Add Contact to Campaign', description: "Adds a contact to a campaign's audience, by the campaign's audience rules." },
  operation: {
    inputFields: [
      { key: 'campaign_id', label: 'Campaign', required: true, dynamic: 'campaign_list.id.name' },
      { key: 'contact', label: 'Contact', required: true, helpText: "The contact's id or email." },
    ],
    perform: async (z, bundle) => {
      const campaign = (await z.request({ url: url(`/api/v1/campaigns/${bundle.inputData.campaign_id}`) })).data;
      const contact = await findContact(z, bundle.inputData.contact);
      const audience = campaign.audience || { contact_ids: [], tags: [] };
      const tag = (audience.tags || [])[0];
      if (tag) {
        const tags = [...new Set([...(contact.tags || []), tag])];
        await putContact(z, contact, { tags });
        return { campaign_id: campaign.id, contact_id: contact.id, added_by: 'tag', tag };
      }
      const ids = audience.contact_ids || [];
      if (!ids.includes(contact.id)) {
        await z.request({
          url: url(`/api/v1/campaigns/${campaign.id}`),
          method: 'PUT',
          body: asInput(campaign, { ...audience, contact_ids: [...ids, contact.id] }),
        });
      }
      return { campaign_id: campaign.id, contact_id: contact.id, added_by: 'contact_id', tag: null };
    },
    sample: { campaign_id: '0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f', contact_id: '5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11', added_by: 'tag', tag: 'trial' },
  },
};
