import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearchParams } from "react-router";
import { exchangeToken } from "../api/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";

const DEFAULT_PAGE = "/settings/developers/api-keys";

// Browsers read a backslash as "/" in a URL and drop tabs and line breaks, so "/\evil.example"
// or "/<tab>/evil.example" would become "//evil.example": another site.
const UNSAFE_IN_PATH = /[\\\u0000-\u001f\u007f]/;

/** Only a path inside the dashboard: `next` must not send anyone off-site. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !UNSAFE_IN_PATH.test(next) ? next : DEFAULT_PAGE;
}

/**
 * Where the PenguinMails app sends the user back with `#token=`: this page (the only one
 * that reads the token), which then goes on to `next`.
 */
function returnTo(next: string): string {
  return `${window.location.origin}/dashboard/sign-in?next=${encodeURIComponent(next)}`;
}

/**
 * The hand-over: the PenguinMails app (locally, the runtime's one-time link) opens
 * `/dashboard/sign-in#token=<session>`. The token is traded at once for the HttpOnly
 * cookie and wiped from the address bar and history.
 */
export function SignIn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const token = useRef(new URLSearchParams(window.location.hash.slice(1)).get("token"));
  const next = safeNext(params.get("next"));
  // Where the PenguinMails app signs people in (set at build time; none locally).
  const appSignInUrl: string | undefined = import.meta.env.VITE_SIGN_IN_URL;

  useEffect(() => {
    const handed = token.current;
    if (!handed) return;
    token.current = null;
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    exchangeToken(handed)
      .then((session) => {
        queryClient.setQueryData(["session"], session);
        navigate(next, { replace: true });
      })
      .catch(setError);
  }, [navigate, next, queryClient]);

  if (token.current && !error) return <Loading label="Signing you in" />;

  const reason = params.get("reason");
  return (
    <main className="sign-in" id="main">
      <div className="card">
        <h1>PenguinMails Developers</h1>
        {reason === "expired" && !error && (
          <p className="notice notice-info" role="status">
            Your session has ended. Sign in again to continue where you were.
          </p>
        )}
        {reason === "link_used" && (
          <p className="notice notice-warn" role="status">
            That sign-in link was already used or has expired: each link works once.
          </p>
        )}
        {reason === "signed_out" && (
          <p className="notice notice-info" role="status">
            You are signed out.
          </p>
        )}
        {error !== null && <ErrorNotice error={error} />}
        {appSignInUrl ? (
          <a className="button button-primary" href={`${appSignInUrl}?return_to=${encodeURIComponent(returnTo(next))}`}>
            Sign in with PenguinMails
          </a>
        ) : (
          <p>
            Sign in from the PenguinMails app. Running locally? Open the one-time sign-in link the local runtime
            printed (a fresh one is printed each time one is used).
          </p>
        )}
      </div>
    </main>
  );
}
