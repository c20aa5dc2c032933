import { api } from "./client";

/** Who is signed in (`GET /api/v1/platform/session`). */
export interface SessionInfo {
  user_id: string;
  tenant_id: string;
  role: "owner" | "admin" | "member";
  expires_at: string;
}

export const SESSION_PATH = "/api/v1/platform/session";

export const getSession = () => api<SessionInfo>("GET", SESSION_PATH);

/**
 * Trades the session token the PenguinMails app hands over (in the sign-in link's
 * fragment, which never reaches a server log) for the HttpOnly session cookie.
 */
export const exchangeToken = (token: string) =>
  api<SessionInfo>("POST", SESSION_PATH, {
    headers: { Authorization: `Bearer ${token}` },
    quiet401: true,
  });

export const signOut = () => api<void>("DELETE", SESSION_PATH, { quiet401: true });

export const canManage = (session: SessionInfo | undefined) =>
  session?.role === "owner" || session?.role === "admin";
