'use strict';
// What every part of the app shares: where the API is, how requests authenticate, how
// API errors reach the Zap user, and the Idempotency-Key of a create.

const crypto = require('crypto');

/** The API's base URL: production unless the app's PM_API_URL environment says otherwise. */
const baseUrl = () => (process.env.PM_API_URL || 'https://api.penguinmails.com').replace(/\/+$/, '');

const url = (path) => `${baseUrl()}${path}`;

/** beforeRequest: the key as a Bearer token on every call to the API. */
const authenticate = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${bundle.authData.api_key}`;
  }
  return request;
};

/** The API's problem (RFC 9457) as one readable line, ending with its request id. */
const describe = (response) => {
  let problem = {};
  try {
    problem = JSON.parse(response.content);
  } catch (_) {
    // not a problem body: the status says what there is to say
  }
  const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join('; ');
  const what = problem.detail || problem.title || `HTTP ${response.status}`;
  const id = problem.request_id ? ` (PenguinMails request ${problem.request_id})` : '';
  return { problem, message: `${what}${fields ? ` - ${fields}` : ''}${id}` };
};

/**
 * afterResponse: a failed call becomes an error the Zap user can act on. A request that
 * sets skipThrowForStatus reads the status itself (a search's 404).
 */
const raiseForProblems = (response, z) => {
  if (response.request && response.request.skipThrowForStatus) return response;
  return throwForProblem(response, z);
};

/** Throws the readable error of a failed response; returns a successful one. */
const throwForProblem = (response, z) => {
  if (response.status < 400) return response;
  const { problem, message } = describe(response);
  if (response.status === 401) {
    throw new z.errors.Error(
      `PenguinMails refused the API key: ${message}. Check that the key is active and was pasted whole.`,
      'AuthenticationError',
      401,
    );
  }
  if (response.status === 429) {
    const retryAfter = Number(response.getHeader('retry-after')) || 60;
    throw new z.errors.ThrottledError(message, retryAfter);
  }
  throw new z.errors.Error(message, problem.code || 'ApiError', response.status);
};

/** JSON with keys in a fixed order, so equal inputs hash equally. */
const canonical = (value) => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
};

/**
 * The Idempotency-Key of a create: the Zap, the action and its inputs. Zapier retries a
 * failed step with the same inputs, so a retry replays the first answer instead of
 * creating again (PenguinMails keeps keys 24 hours).
 */
const idempotencyKey = (bundle, action) => {
  const zap = (bundle.meta && bundle.meta.zap && bundle.meta.zap.id) || 'no-zap';
  const digest = crypto
    .createHash('sha256')
    .update(canonical([zap, action, bundle.inputData || {}]))
    .digest('hex');
  return `zapier-${digest}`;
};

/** Drops empty inputs (Zapier sends '' for fields left blank). */
const present = (object) =>
  Object.fromEntries(
    Object.entries(object).filter(
      ([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0),
    ),
  );

/** A contact by id (a UUID) or by email; a clear error when there is none. */
const findContact = async (z, idOrEmail) => {
  const value = String(idOrEmail || '').trim();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    const response = await z.request({ url: url(`/api/v1/contacts/${value}`), skipThrowForStatus: true });
    if (response.status === 404) throw new z.errors.Error(`No contact has the id ${value}.`, 'NotFound', 404);
    throwForProblem(response, z);
    return response.data;
  }
  const response = await z.request({ url: url('/api/v1/contacts'), params: { email: value, limit: 1 } });
  const [contact] = response.data.data;
  if (!contact) throw new z.errors.Error(`No contact has the email ${value}.`, 'NotFound', 404);
  return contact;
};

module.exports = { url, authenticate, raiseForProblems, throwForProblem, idempotencyKey, present, findContact };
