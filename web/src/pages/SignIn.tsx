import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearchParams } from "react-router";
import { exchangeToken } from "../api/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";

/** Where the PenguinMails app signs people in (set at build time; none locally). */
const APP_SIGN_IN_URL: string | undefined = import.meta.env.VITE_SIGN_IN_URL;

const DEFAULT_PAGE = "/settings/developers/api-keys";

/** Only a path inside the dashboard: `next` must not send anyone off-site. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : DEFAULT_PAGE;
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
        {APP_SIGN_IN_URL ? (
          <a
            className="button button-primary"
            href={`${APP_SIGN_IN_URL}?return_to=${encodeURIComponent(window.location.origin + "/dashboard" + next)}`}
          >
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
