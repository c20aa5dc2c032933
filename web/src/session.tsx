import { createContext, useContext, useEffect, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Navigate, useLocation, useNavigate } from "react-router";
import { SESSION_EXPIRED_EVENT } from "./api/client";
import { getSession, type SessionInfo } from "./api/session";
import { ErrorNotice } from "./components/ErrorNotice";
import { Loading } from "./components/Loading";

const SessionContext = createContext<SessionInfo | undefined>(undefined);

/** The signed-in user; only inside <RequireSession>. */
export function useSession(): SessionInfo {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside <RequireSession>");
  return session;
}

/** Where an expired or missing session sends the user, remembering where they were. */
export function signInPath(from: string, reason: "expired" | "signed_out" = "expired") {
  return `/sign-in?reason=${reason}&next=${encodeURIComponent(from)}`;
}

/**
 * Renders its children only with a live session. Any 401 from any call (the session
 * ended while the page was open) sends the user to the sign-in page, never to a blank one.
 */
export function RequireSession({ children }: { children: ReactNode }) {
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useQuery({ queryKey: ["session"], queryFn: getSession, retry: false, staleTime: 60_000 });

  useEffect(() => {
    const expired = () => {
      queryClient.clear();
      navigate(signInPath(location.pathname + location.search), { replace: true });
    };
    window.addEventListener(SESSION_EXPIRED_EVENT, expired);
    return () => window.removeEventListener(SESSION_EXPIRED_EVENT, expired);
  }, [navigate, queryClient, location.pathname, location.search]);

  if (session.isPending) return <Loading label="Checking your session" />;
  if (session.error) {
    if ("status" in session.error && session.error.status === 401) {
      return <Navigate to={signInPath(location.pathname + location.search)} replace />;
    }
    return (
      <main className="page">
        <ErrorNotice error={session.error} retry={() => session.refetch()} />
      </main>
    );
  }
  return <SessionContext.Provider value={session.data}>{children}</SessionContext.Provider>;
}
