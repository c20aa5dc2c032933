'use strict';
// The REST-hook triggers: subscribing creates a PenguinMails webhook for one event type
// that posts to Zapier's target URL; unsubscribing deletes it. Deliveries are signed
// (Standard Webhooks) with that webhook's secret, kept in the subscription, and checked
// here before anything reaches the Zap.

const crypto = require('crypto');
const { url, throwForProblem } = require('./api');
const catalog = require('./catalog.json');

// Standard Webhooks suggests 5 minutes. Zapier answers the delivery at once and runs
// `perform` from its own queue, which can take longer; a replay still needs a valid
// signature, and the event id tells a repeat apart. An hour keeps events from being lost.
const TOLERANCE_SECONDS = 60 * 60;

/** A header of the raw request, whatever Zapier did to its name (`Http-Webhook-Id`). */
const header = (headers, name) => {
  for (const [key, value] of Object.entries(headers || {})) {
    const bare = key.toLowerCase().replace(/^http-/, '');
    if (bare === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
};

/** Throws unless the delivery carries a valid, fresh signature made with `secret`. */
const verify = (z, secret, rawRequest, now = Date.now()) => {
  const id = header(rawRequest.headers, 'webhook-id');
  const timestamp = header(rawRequest.headers, 'webhook-timestamp');
  const signatures = header(rawRequest.headers, 'webhook-signature');
  const refuse = (why) => {
    throw new z.errors.Error(`Refused a delivery that is not from PenguinMails: ${why}.`, 'InvalidSignature', 401);
  };
  if (!id || !timestamp || !signatures) refuse('signature headers missing');
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds) || Math.abs(now / 1000 - seconds) > TOLERANCE_SECONDS) refuse('timestamp too old or too new');
  const key = Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');
  const expected = crypto
    .createHmac('sha256', key)
    .update(`${id}.${timestamp}.${rawRequest.content}`)
    .digest();
  const matches = String(signatures)
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .some((entry) => {
      const given = Buffer.from(entry.slice(3), 'base64');
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
  if (!matches) refuse('signature does not match');
};

/**
 * An event as the Zap sees it: `id` is the event's id (what Zapier de-duplicates on), then
 * the event's type and time, then its data with the resource's id named for what it is.
 */
const toOutput = (noun, event) => {
  const { id, ...data } = event.data || {};
  return { id: event.id, event_type: event.type, occurred_at: event.created_at, [`${noun}_id`]: id, ...data };
};

/** A trigger on one event type. */
const trigger = ({ key, type, noun, label, description }) => {
  const sample = toOutput(noun, { id: catalog.sample_event_id, type, created_at: catalog.sample_time, data: catalog.samples[type] });
  return {
    key,
    noun: noun === 'email' ? 'Email' : 'Contact',
    display: { label, description },
    operation: {
      type: 'hook',
      performSubscribe: async (z, bundle) => {
        const response = await z.request({
          url: url('/api/v1/webhooks'),
          method: 'POST',
          body: { url: bundle.targetUrl, event_types: [type], description: `Zapier: ${label}` },
        });
        // Zapier keeps this as bundle.subscribeData: the webhook's id and signing secret.
        return { id: response.data.id, secret: response.data.secret };
      },
      performUnsubscribe: async (z, bundle) => {
        const response = await z.request({
          url: url(`/api/v1/webhooks/${bundle.subscribeData.id}`),
          method: 'DELETE',
          skipThrowForStatus: true,
        });
        // Already gone (deleted in PenguinMails) is what unsubscribing wants anyway.
        if (response.status !== 204 && response.status !== 404) throwForProblem(response, z);
        return {};
      },
      perform: (z, bundle) => {
        // Nothing unsigned reaches the Zap: Zapier hands hooks their raw request.
        if (!bundle.rawRequest || typeof bundle.rawRequest.content !== 'string') {
          throw new z.errors.Error('Refused a delivery that is not from PenguinMails: no raw request to verify.', 'InvalidSignature', 401);
        }
        verify(z, bundle.subscribeData && bundle.subscribeData.secret, bundle.rawRequest);
        const event = JSON.parse(bundle.rawRequest.content);
        if (event.type !== type) return [];
        return [toOutput(noun, event)];
      },
      performList: async (z) => {
        const response = await z.request({ url: url('/api/v1/events'), params: { type, limit: 3 } });
        return response.data.data.map((event) => toOutput(noun, event));
      },
      sample,
      outputFields: Object.keys(sample).map((k) => ({ key: k, label: k.replace(/_/g, ' ') })),
    },
  };
};

module.exports = { trigger, toOutput, verify };
