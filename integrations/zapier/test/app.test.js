'use strict';
// The app against the running system (no internet): tests/integration/zapier_app.rs starts
// the local runtime with the demo account sending through Postmark's API shape (answered
// on loopback) and runs `npm test` with:
//   PM_API_URL, PM_API_KEY   the API and a key with every scope
//   PM_FROM                  a registered sender of the account
//   PM_TENANT_ID             the account, for its provider-event URLs
//   PM_POSTMARK_HOOKS        user:password Postmark presents on its webhooks
//   PM_CAMPAIGNS_ONLY_KEY    a key with manage_campaigns alone (the scope error paths)
// Everything goes through createAppTester, as Zapier would run it.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zapier = require('zapier-platform-core');
const App = require('../index');
const catalog = require('../lib/catalog.json');
const { toOutput } = require('../lib/events');

const appTester = zapier.createAppTester(App);
const { PM_API_URL, PM_API_KEY, PM_FROM, PM_TENANT_ID, PM_POSTMARK_HOOKS, PM_CAMPAIGNS_ONLY_KEY } = process.env;
for (const [name, value] of Object.entries({ PM_API_URL, PM_API_KEY, PM_FROM, PM_TENANT_ID, PM_POSTMARK_HOOKS, PM_CAMPAIGNS_ONLY_KEY })) {
  if (!value) throw new Error(`${name} is not set (see the comment at the top of this file)`);
}
const authData = { api_key: PM_API_KEY };
const REQUEST_ID = /PenguinMails request [0-9a-f-]{36}/;

/** The API called directly, as the world outside Zapier would. */
const api = async (method, path, body, headers = {}) => {
  const response = await fetch(`${PM_API_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${PM_API_KEY}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
};

const waitFor = async (what, probe, ms = 20000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Zapier's catch URL stand-in: keeps what arrives, by path. */
const receiver = () =>
  new Promise((resolve) => {
    const received = [];
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"status":"success"}');
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, received, base: `http://127.0.0.1:${server.address().port}` }));
  });

/** A delivery as Zapier hands it to `perform`: headers renamed `Http-Webhook-Id` and so on. */
const asRawRequest = (delivery) => ({
  method: 'POST',
  headers: Object.fromEntries(
    Object.entries(delivery.headers).map(([name, value]) => [
      `Http-${name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('-')}`,
      value,
    ]),
  ),
  content: delivery.body,
});

const postmark = async (record) => {
  const response = await fetch(`${PM_API_URL}/api/v1/provider-events/postmark/${PM_TENANT_ID}`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(PM_POSTMARK_HOOKS).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(record),
  });
  assert.equal(response.status, 200, await response.text());
};

const unique = (name) => `${name}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.org`;

test('the key is tested with /me, the connection is labelled with the account and key, and a bad key is told so', async () => {
  const me = await appTester(App.authentication.test, { authData });
  assert.equal(me.tenant.name, 'Demo Tenant');
  const label = await appTester(App.authentication.connectionLabel, { authData, inputData: me });
  assert.equal(label, `Demo Tenant (${me.api_key.name})`);
  await assert.rejects(
    appTester(App.authentication.test, { authData: { api_key: `pm_live_${'x'.repeat(32)}` } }),
    (error) => /PenguinMails refused the API key/.test(error.message) && REQUEST_ID.test(error.message),
  );
});

test("each trigger's sample is the catalog's, as the trigger outputs it", async () => {
  const live = await api('GET', '/api/v1/webhooks/event-types');
  const samples = Object.fromEntries(live.body.data.map((entry) => [entry.type, entry.sample]));
  const triggers = { email_sent: 'email.sent', email_opened: 'email.opened', email_clicked: 'email.clicked', email_replied: 'email.replied', contact_created: 'contact.created' };
  for (const [key, type] of Object.entries(triggers)) {
    assert.deepEqual(catalog.samples[type], samples[type], `lib/catalog.json is behind the API for ${type}`);
    const noun = type.startsWith('email.') ? 'email' : 'contact';
    const expected = toOutput(noun, { id: catalog.sample_event_id, type, created_at: catalog.sample_time, data: samples[type] });
    assert.deepEqual(App.triggers[key].operation.sample, expected, key);
  }
});

test('every trigger: subscribe, a real event, its output, recent examples, unsubscribe', async () => {
  const catcher = await receiver();
  try {
    const triggers = ['contact_created', 'email_sent', 'email_opened', 'email_clicked', 'email_replied'];
    const subscriptions = {};
    for (const key of triggers) {
      const subscribeData = await appTester(App.triggers[key].operation.performSubscribe, {
        authData,
        targetUrl: `${catcher.base}/${key}`,
      });
      const webhook = await api('GET', `/api/v1/webhooks/${subscribeData.id}`);
      assert.equal(webhook.status, 200);
      assert.deepEqual(webhook.body.event_types, [key === 'contact_created' ? 'contact.created' : `email.${key.split('_')[1]}`]);
      assert.match(subscribeData.secret, /^whsec_/);
      subscriptions[key] = subscribeData;
    }

    // The events, for real: a contact, an email to it, then Postmark's open, click and
    // the recipient's reply (Postmark's inbound webhook).
    const to = unique('zap.ada');
    const contact = await api('POST', '/api/v1/contacts', { email: to, first_name: 'Ada' });
    assert.equal(contact.status, 201);
    const sent = await api('POST', '/api/v1/emails/send', {
      from: { email: PM_FROM, name: 'Acme' },
      to,
      subject: 'Hello from the Zapier test',
      html: '<p>Hi <a href="https://example.com/start">start</a></p>',
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const email = await waitFor('the email to be sent', async () => {
      const current = await api('GET', `/api/v1/emails/${sent.body.id}`);
      return current.body.status === 'sent' ? current.body : null;
    });
    await new Promise((r) => setTimeout(r, 2500)); // sooner than 2 s after sending counts as automated
    const now = new Date().toISOString();
    const common = { MessageID: email.provider_message_id, Recipient: to, ReceivedAt: now, MessageStream: 'outbound', UserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15' };
    await postmark({ RecordType: 'Open', FirstOpen: true, Platform: 'Desktop', ReadSeconds: 5, ...common });
    await postmark({ RecordType: 'Click', OriginalLink: 'https://example.com/start', ClickLocation: 'HTML', Platform: 'Desktop', ...common });
    await postmark({
      MessageID: `inbound-${Date.now()}`,
      From: to,
      FromFull: { Email: to, Name: 'Ada' },
      Date: new Date().toUTCString(),
      Subject: 'Re: Hello from the Zapier test',
      Headers: [{ Name: 'In-Reply-To', Value: `<${email.message_id}>` }],
    });

    for (const key of triggers) {
      const delivery = await waitFor(`a ${key} delivery`, async () => catcher.received.find((r) => r.path === `/${key}`));
      const event = JSON.parse(delivery.body);
      const bundle = { authData, subscribeData: subscriptions[key], cleanedRequest: event, rawRequest: asRawRequest(delivery) };
      const [output, ...more] = await appTester(App.triggers[key].operation.perform, bundle);
      assert.equal(more.length, 0);
      assert.equal(output.id, event.id, 'Zapier de-duplicates on the event id');
      assert.equal(output.event_type, event.type);
      if (key === 'contact_created') {
        assert.equal(output.contact_id, contact.body.id);
        assert.equal(output.email, to);
      } else {
        assert.equal(output.email_id, sent.body.id);
        assert.equal(output.to, to);
      }
      if (key === 'email_clicked') assert.equal(output.url, 'https://example.com/start');

      // A forged or altered delivery never reaches the Zap.
      const forged = { ...bundle, rawRequest: { ...bundle.rawRequest, content: bundle.rawRequest.content.replace(to, 'mallory@example.org') } };
      await assert.rejects(appTester(App.triggers[key].operation.perform, forged), /not from PenguinMails/);
      const wrongSecret = { ...bundle, subscribeData: { ...bundle.subscribeData, secret: subscriptions[triggers[(triggers.indexOf(key) + 1) % 5]].secret } };
      await assert.rejects(appTester(App.triggers[key].operation.perform, wrongSecret), /not from PenguinMails/);

      // Recent real examples, newest first: this event leads.
      const recent = await appTester(App.triggers[key].operation.performList, { authData });
      assert.equal(recent[0].id, event.id, `${key} performList`);
      assert.ok(recent.every((item) => item.event_type === event.type));
    }

    for (const key of triggers) {
      await appTester(App.triggers[key].operation.performUnsubscribe, { authData, subscribeData: subscriptions[key] });
      assert.equal((await api('GET', `/api/v1/webhooks/${subscriptions[key].id}`)).status, 404);
      // Unsubscribing again (already deleted in PenguinMails) is not an error.
      await appTester(App.triggers[key].operation.performUnsubscribe, { authData, subscribeData: subscriptions[key] });
    }
  } finally {
    catcher.server.close();
    catcher.server.closeAllConnections();
  }
});

test('create contact: created once however often Zapier retries, and errors say what and which request', async () => {
  const email = unique('zap.create');
  const bundle = { authData, meta: { zap: { id: 4242 } }, inputData: { email, first_name: 'Grace', tags: ['zap'], custom_fields: { plan: 'pro' } } };
  const created = await appTester(App.creates.create_contact.operation.perform, bundle);
  assert.equal(created.email, email);
  assert.deepEqual(created.custom_fields, { plan: 'pro' });
  const retried = await appTester(App.creates.create_contact.operation.perform, bundle);
  assert.equal(retried.id, created.id, 'a retry replays the first answer');
  const list = await api('GET', `/api/v1/contacts?email=${encodeURIComponent(email)}`);
  assert.equal(list.body.data.length, 1);

  // The same email from another Zap run is a real duplicate: the API's 409, readable.
  await assert.rejects(
    appTester(App.creates.create_contact.operation.perform, { ...bundle, meta: { zap: { id: 4343 } } }),
    (error) => /existing_id|already/.test(error.message) && REQUEST_ID.test(error.message),
  );
  await assert.rejects(
    appTester(App.creates.create_contact.operation.perform, { authData, inputData: { email: 'not an email' } }),
    (error) => /email/.test(error.message) && REQUEST_ID.test(error.message),
  );
});

test('update contact: found by email or id, only the fields given change, tags added', async () => {
  const email = unique('zap.update');
  const created = (await api('POST', '/api/v1/contacts', { email, first_name: 'Ada', last_name: 'Byron', tags: ['lead'] })).body;
  const updated = await appTester(App.creates.update_contact.operation.perform, {
    authData,
    inputData: { contact: email, first_name: 'Augusta', add_tags: ['engaged'], custom_fields: { source: 'zapier' } },
  });
  assert.equal(updated.id, created.id);
  assert.equal(updated.first_name, 'Augusta');
  assert.equal(updated.last_name, 'Byron', 'a field left blank keeps its value');
  assert.deepEqual(updated.tags.sort(), ['engaged', 'lead']);
  assert.deepEqual(updated.custom_fields, { source: 'zapier' });
  const byId = await appTester(App.creates.update_contact.operation.perform, { authData, inputData: { contact: created.id, company: 'Analytical Engines' } });
  assert.equal(byId.company, 'Analytical Engines');
  assert.equal(byId.first_name, 'Augusta');
  await assert.rejects(
    appTester(App.creates.update_contact.operation.perform, { authData, inputData: { contact: unique('nobody') } }),
    /No contact has the email/,
  );
});

test('send email: inline or from a template chosen in a dropdown; a sender not registered is refused readably', async () => {
  const to = unique('zap.send');
  const inline = await appTester(App.creates.send_email.operation.perform, {
    authData,
    inputData: { from_email: PM_FROM, from_name: 'Acme', to, subject: 'Welcome', text: 'Hello!', tags: ['zapier'] },
  });
  assert.equal(inline.status, 'queued');
  assert.deepEqual(inline.tags, ['zapier']);

  const template = (await api('POST', '/api/v1/templates', { name: `Zap welcome ${Date.now()}`, subject: 'Hi {{ first_name }}', text: 'Welcome, {{ first_name }}.' })).body;
  const templates = await appTester(App.triggers.template_list.operation.perform, { authData, meta: { page: 0 } });
  assert.ok(templates.some((t) => t.id === template.id && t.name === template.name), 'the template dropdown lists it');
  const templated = await appTester(App.creates.send_email.operation.perform, {
    authData,
    inputData: { from_email: PM_FROM, to, template_id: template.id, variables: { first_name: 'Ada' } },
  });
  const stored = await api('GET', `/api/v1/emails/${templated.id}`);
  assert.equal(stored.body.subject, 'Hi Ada');

  await assert.rejects(
    appTester(App.creates.send_email.operation.perform, { authData, inputData: { from_email: 'pat@not-registered.io', to, subject: 'x', text: 'y' } }),
    (error) => /sender/.test(error.message) && REQUEST_ID.test(error.message),
  );
});

test('add contact to campaign: by the audience tag, or by id on a list audience; an unknown campaign is a clear error', async () => {
  const email = unique('zap.campaign');
  const contact = (await api('POST', '/api/v1/contacts', { email, tags: ['lead'] })).body;
  const campaign = (body) => api('POST', '/api/v1/campaigns', { name: `Zap ${Date.now()} ${Math.random()}`, sender: { from_name: 'Acme', from_email: PM_FROM }, steps: [{ subject: 'Hi', text: 'Hello', delay_minutes: 0 }], ...body });

  const byTag = (await campaign({ audience: { tags: ['trial'] } })).body;
  const campaigns = await appTester(App.triggers.campaign_list.operation.perform, { authData, meta: { page: 0 } });
  assert.ok(campaigns.some((c) => c.id === byTag.id), 'the campaign dropdown lists it');
  const tagged = await appTester(App.creates.add_to_campaign.operation.perform, { authData, inputData: { campaign_id: byTag.id, contact: email } });
  assert.deepEqual(tagged, { campaign_id: byTag.id, contact_id: contact.id, added_by: 'tag', tag: 'trial' });
  assert.deepEqual((await api('GET', `/api/v1/contacts/${contact.id}`)).body.tags.sort(), ['lead', 'trial']);

  const byList = (await campaign({ audience: { contact_ids: [] } })).body;
  const listed = await appTester(App.creates.add_to_campaign.operation.perform, { authData, inputData: { campaign_id: byList.id, contact: contact.id } });
  assert.equal(listed.added_by, 'contact_id');
  assert.deepEqual((await api('GET', `/api/v1/campaigns/${byList.id}`)).body.audience.contact_ids, [contact.id]);
  // Twice is once.
  await appTester(App.creates.add_to_campaign.operation.perform, { authData, inputData: { campaign_id: byList.id, contact: contact.id } });
  assert.deepEqual((await api('GET', `/api/v1/campaigns/${byList.id}`)).body.audience.contact_ids, [contact.id]);

  await assert.rejects(
    appTester(App.creates.add_to_campaign.operation.perform, { authData, inputData: { campaign_id: '00000000-0000-4000-8000-000000000000', contact: email } }),
    (error) => /no campaign/.test(error.message) && REQUEST_ID.test(error.message),
  );
});

test('find contact by email and find campaign by name, found or not', async () => {
  const email = unique('zap.find');
  const contact = (await api('POST', '/api/v1/contacts', { email: email.toUpperCase() })).body;
  const found = await appTester(App.searches.find_contact.operation.perform, { authData, inputData: { email } });
  assert.deepEqual(found.map((c) => c.id), [contact.id], 'any case');
  assert.deepEqual(await appTester(App.searches.find_contact.operation.perform, { authData, inputData: { email: unique('absent') } }), []);

  const name = `Spring launch ${Date.now()}`;
  const longer = (await api('POST', '/api/v1/campaigns', { name: `${name} (copy)`, sender: { from_name: 'Acme', from_email: PM_FROM } })).body;
  const exact = (await api('POST', '/api/v1/campaigns', { name, sender: { from_name: 'Acme', from_email: PM_FROM } })).body;
  const campaigns = await appTester(App.searches.find_campaign.operation.perform, { authData, inputData: { name: name.toLowerCase() } });
  assert.deepEqual(campaigns.map((c) => c.id), [exact.id], 'the exact name wins over a longer one');
  const partial = await appTester(App.searches.find_campaign.operation.perform, { authData, inputData: { name: `${name} (co` } });
  assert.deepEqual(partial.map((c) => c.id), [longer.id]);
  assert.deepEqual(await appTester(App.searches.find_campaign.operation.perform, { authData, inputData: { name: `absent ${Date.now()}` } }), []);

  // A key that may not read contacts: the API's 403, readable, with its request id.
  await assert.rejects(
    appTester(App.searches.find_contact.operation.perform, { authData: { api_key: process.env.PM_CAMPAIGNS_ONLY_KEY }, inputData: { email } }),
    (error) => /manage_contacts/.test(error.message) && REQUEST_ID.test(error.message),
  );
});
