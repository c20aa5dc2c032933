// `/integrations/:provider/callback`: where the CRM sends the user back after they
// approve the app. It hands the code and state to the API with this user's session (the
// state is bound to the user who started), then goes back to the integrations page.
import { useEffect, useRef } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { INTEGRATIONS_PATH, integrationsApi } from "./integrationsApi";

export function IntegrationCallbackPage() {
  const { provider = "" } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const code = params.get("code") ?? "";
  const state = params.get("state") ?? "";
  // The CRM's own refusal (the user chose Cancel) arrives as `error`.
  const refused = params.get("error_description") ?? params.get("error");
  const complete = useMutation({
    mutationFn: () => integrationsApi.complete(provider, code, state),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["integrations"] });
      navigate(INTEGRATIONS_PATH, { replace: true });
    },
  });
  const sent = useRef(false);
  useEffect(() => {
    // Once: a code is good for one exchange (StrictMode runs effects twice).
    if (sent.current || refused || !code || !state) return;
    sent.current = true;
    complete.mutate();
  }, [code, state, refused, complete]);

  return (
    <>
      <h1>Connecting</h1>
      {refused && <p role="alert">The connection was not approved: {refused}</p>}
      {!refused && (!code || !state) && <p role="alert">This page is reached from the CRM, after approving the app.</p>}
      {complete.isPending && <Loading label="Completing the connection" />}
      {complete.isError && <ErrorNotice error={complete.error} />}
      {(refused || complete.isError || !code || !state) && <Link to={INTEGRATIONS_PATH}>Back to integrations</Link>}
    </>
  );
}
