// The one way the dashboard talks to the API: same-origin fetch with the session cookie
// (`__Host-pm_session`, HttpOnly, so no script here can read it) and the CSRF token the API
// checks against its companion cookie. Errors arrive as RFC 9457 problems and become ApiError.

export const SESSION_EXPIRED_EVENT = "pm:session-expired";

/** One field's complaint in a validation error. */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** An API error as the server described it (`application/problem+json`). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly requestId: string | null;
  readonly errors: FieldError[];

  constructor(init: {
    status: number;
    code: string;
    title: string;
    detail: string;
    requestId: string | null;
    errors?: FieldError[];
  }) {
    super(init.detail || init.title);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
  }

  /** The message for one form field, if the server named it. */
  fieldMessage(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

/** The value of a readable cookie (the CSRF companion; the session itself is HttpOnly). */
export function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

// `__Host-`: the browser takes it only Secure, Path=/ and without Domain, so no sibling
// subdomain can plant or overwrite it.
export const CSRF_COOKIE = "__Host-pm_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

export interface RequestOptions {
  body?: unknown;
  /** Extra headers, e.g. Authorization for the one sign-in exchange. */
  headers?: Record<string, string>;
  /** A 401 here is an answer, not an expired session (the sign-in exchange itself). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

async function toApiError(response: Response): Promise<ApiError> {
  const requestId = response.headers.get("x-request-id");
  let problem: Record<string, unknown> = {};
  try {
    problem = (await response.json()) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): keep what the status says.
  }
  const text = (key: string) => (typeof problem[key] === "string" ? (problem[key] as string) : "");
  return new ApiError({
    status: response.status,
    code: text("code") || `http_${response.status}`,
    title: text("title") || response.statusText || "Request failed",
    detail: text("detail") || `The server answered ${response.status}.`,
    requestId: text("request_id") || requestId,
    errors: Array.isArray(problem.errors) ? (problem.errors as FieldError[]) : [],
  });
}

/** Calls `/api/...`; resolves to the JSON body (undefined for 204), rejects with ApiError. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const csrf = readCookie(CSRF_COOKIE);
  if (csrf) headers[CSRF_HEADER] = csrf;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError({
      status: 0,
      code: "network_error",
      title: "Network error",
      detail: "The API could not be reached. Check your connection and try again.",
      requestId: null,
    });
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && !options.quiet401) {
      window.dispatchEvent(new CustomEvent(SESSION_EXPIRED_EVENT));
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A query string from the defined values of `params` ("" when none). */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
