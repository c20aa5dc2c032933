'use strict';
// Send Email: POST /api/v1/emails/send, inline content or a template chosen from a
// dropdown. The API refuses a `from` that is not one of the account's senders, and
// content that mixes a template with a subject or body, naming the field.

const { url, idempotencyKey, present } = require('../lib/api');

module.exports = {
  key: 'send_email',
  noun: 'Email',
  display: { label: 'Send Email', description: 'Sends an email to one recipient, from one of your registered senders.' },
  operation: {
    inputFields: [
      { key: 'from_email', label: 'From Email', required: true, helpText: 'One of your account\'s registered senders (an address, or any address at a registered domain).' },
      { key: 'from_name', label: 'From Name', helpText: 'No line breaks.' },
      { key: 'to', label: 'To', required: true, helpText: 'The recipient\'s address. A suppressed address (unsubscribed, bounced, complained) is refused.' },
      { key: 'reply_to', label: 'Reply To' },
      { key: 'template_id', label: 'Template', dynamic: 'template_list.id.name', helpText: 'Either a template (with Variables), or a Subject with an HTML and/or Text body.' },
      { key: 'variables', label: 'Variables', dict: true, helpText: 'Values for the template, by name.' },
      { key: 'subject', label: 'Subject', helpText: 'Without a template: at most 998 characters, no line breaks.' },
      { key: 'html', label: 'HTML Body', type: 'text' },
      { key: 'text', label: 'Text Body', type: 'text' },
      { key: 'tags', label: 'Tags', list: true, helpText: 'Up to 10 tags: letters, digits, dot, dash, underscore.' },
    ],
    perform: async (z, bundle) => {
      const input = bundle.inputData;
      const response = await z.request({
        url: url('/api/v1/emails/send'),
        method: 'POST',
        headers: { 'Idempotency-Key': idempotencyKey(bundle, 'send_email') },
        body: present({
          from: present({ email: input.from_email, name: input.from_name }),
          to: input.to,
          reply_to: input.reply_to,
          template_id: input.template_id,
          variables: input.template_id ? input.variables : undefined,
          subject: input.subject,
          html: input.html,
          text: input.text,
          tags: input.tags,
        }),
      });
      return response.data;
    },
    sample: {
      id: '9f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
      status: 'queued',
      from: { email: 'team@acme.io', name: 'Acme' },
      to: 'ada@example.com',
      subject: 'Welcome aboard, Ada',
      tags: ['welcome'],
      created_at: '2026-11-27T10:00:00Z',
    },
  },
};
