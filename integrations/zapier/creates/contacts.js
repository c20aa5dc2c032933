'use strict';
// Create Contact and Update Contact. Input fields mirror the API's rules
// (openapi.yaml ContactInput): the API's 422 names any field that breaks one.

const { url, idempotencyKey, present, findContact } = require('../lib/api');

const contactFields = (emailRequired) => [
  { key: 'email', label: 'Email', required: emailRequired, helpText: 'Unique in your account, any case; at most 254 characters.' },
  { key: 'first_name', label: 'First Name', helpText: 'At most 100 characters.' },
  { key: 'last_name', label: 'Last Name', helpText: 'At most 100 characters.' },
  { key: 'company', label: 'Company', helpText: 'At most 200 characters.' },
  { key: 'tags', label: 'Tags', list: true, helpText: 'Up to 50 tags of 1 to 50 characters (no line breaks).' },
  { key: 'custom_fields', label: 'Custom Fields', dict: true, helpText: 'Up to 50 keys (letters, digits, underscores; not starting with a digit), 8 KiB in all. On update, merged into the contact\'s.' },
];

const sample = {
  id: '5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11',
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
  company: 'Analytical Engines',
  tags: ['vip'],
  custom_fields: { plan: 'pro' },
  status: 'subscribed',
  workspace_id: null,
  created_at: '2026-11-27T10:00:00Z',
  updated_at: '2026-11-27T10:00:00Z',
};

const createContact = {
  key: 'create_contact',
  noun: 'Contact',
  display: { label: 'Create Contact', description: 'Creates a contact.' },
  operation: {
    inputFields: contactFields(true),
    perform: async (z, bundle) => {
      const response = await z.request({
        url: url('/api/v1/contacts'),
        method: 'POST',
        headers: { 'Idempotency-Key': idempotencyKey(bundle, 'create_contact') },
        body: present({
          email: bundle.inputData.email,
          first_name: bundle.inputData.first_name,
          last_name: bundle.inputData.last_name,
          company: bundle.inputData.company,
          tags: bundle.inputData.tags,
          custom_fields: bundle.inputData.custom_fields,
        }),
      });
      return response.data;
    },
    sample,
  },
};

/** Replaces a contact with `changes` applied: the API's PUT replaces every field. */
const putContact = async (z, contact, changes) => {
  const next = { ...contact, ...changes };
  const response = await z.request({
    url: url(`/api/v1/contacts/${contact.id}`),
    method: 'PUT',
    body: {
      email: next.email,
      first_name: next.first_name,
      last_name: next.last_name,
      company: next.company,
      tags: next.tags,
      custom_fields: next.custom_fields,
      workspace_id: next.workspace_id,
    },
  });
  return response.data;
};

const updateContact = {
  key: 'update_contact',
  noun: 'Contact',
  display: { label: 'Update Contact', description: 'Changes the fields you fill in of a contact found by id or email.' },
  operation: {
    inputFields: [
      { key: 'contact', label: 'Contact', required: true, helpText: "The contact's id or current email." },
      ...contactFields(false).map((f) => (f.key === 'email' ? { ...f, label: 'New Email' } : f)),
      { key: 'add_tags', label: 'Add Tags', list: true, helpText: 'Tags added to the ones the contact has (Tags, if filled, replaces them first).' },
    ],
    perform: async (z, bundle) => {
      const contact = await findContact(z, bundle.inputData.contact);
      const changes = present({
        email: bundle.inputData.email,
        first_name: bundle.inputData.first_name,
        last_name: bundle.inputData.last_name,
        company: bundle.inputData.company,
        tags: bundle.inputData.tags,
      });
      if (bundle.inputData.custom_fields && Object.keys(bundle.inputData.custom_fields).length > 0) {
        changes.custom_fields = { ...contact.custom_fields, ...bundle.inputData.custom_fields };
      }
      const add = bundle.inputData.add_tags || [];
      if (add.length > 0) changes.tags = [...new Set([...(changes.tags || contact.tags || []), ...add])];
      return putContact(z, contact, changes);
    },
    sample,
  },
};

module.exports = { createContact, updateContact, putContact, sample };
