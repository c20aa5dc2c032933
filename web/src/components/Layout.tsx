import { useMutation, useQueryClient } from "@tanstack/react-query";
import { NavLink, Outlet, useNavigate } from "react-router";
import { signOut } from "../api/session";
import { useSession } from "../session";

export function Layout() {
  const session = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const leave = useMutation({
    mutationFn: signOut,
    onSettled: () => {
      queryClient.clear();
      navigate("/sign-in?reason=signed_out", { replace: true });
    },
  });
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">PenguinMails Developers</span>
        <nav aria-label="Settings">
          <NavLink to="/settings/developers/api-keys">API keys</NavLink>
          <NavLink to="/settings/webhooks">Webhooks</NavLink>
          <NavLink to="/settings/integrations">Integrations</NavLink>
          <a href="/api/docs/">API docs</a>
        </nav>
        <div className="account">
          <span className="muted" title={session.user_id}>
            {session.role}
          </span>
          <button type="button" className="button" onClick={() => leave.mutate()} disabled={leave.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main className="page" id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
