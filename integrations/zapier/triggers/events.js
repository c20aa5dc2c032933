'use strict';
// The five event triggers the roadmap names, all REST hooks (lib/events.js).

const { trigger } = require('../lib/events');

module.exports = [
  trigger({ key: 'email_sent', type: 'email.sent', noun: 'email', label: 'Email Sent', description: 'Triggers when an email is handed to your mail transport.' }),
  trigger({ key: 'email_opened', type: 'email.opened', noun: 'email', label: 'Email Opened', description: 'Triggers when a recipient opens an email (automated opens by bots and privacy proxies are not counted).' }),
  trigger({ key: 'email_clicked', type: 'email.clicked', noun: 'email', label: 'Link Clicked', description: 'Triggers when a recipient clicks a tracked link in an email.' }),
  trigger({ key: 'email_replied', type: 'email.replied', noun: 'email', label: 'Email Replied', description: 'Triggers when a recipient replies to an email.' }),
  trigger({ key: 'contact_created', type: 'contact.created', noun: 'contact', label: 'New Contact', description: 'Triggers when a contact is created.' }),
];
