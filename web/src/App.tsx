import { lazy, Suspense } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Navigate, Outlet, Route, Routes, useLocation } from "react-router";
import { ApiError } from "./api/client";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Loading";
import { RequireSession } from "./session";
import { SignIn } from "./pages/SignIn";

// Each area loads when first visited: the charts library is only needed on detail pages.
const ApiKeysPage = lazy(() => import("./pages/api-keys/ApiKeysPage").then((m) => ({ default: m.ApiKeysPage })));
const ApiKeyDetailPage = lazy(() =>
  import("./pages/api-keys/ApiKeyDetailPage").then((m) => ({ default: m.ApiKeyDetailPage })),
);
const WebhooksPage = lazy(() => import("./pages/webhooks/WebhooksPage").then((m) => ({ default: m.WebhooksPage })));
const WebhookDetailPage = lazy(() =>
  import("./pages/webhooks/WebhookDetailPage").then((m) => ({ default: m.WebhookDetailPage })),
);

const IntegrationsPage = lazy(() =>
  import("./pages/integrations/IntegrationsPage").then((m) => ({ default: m.IntegrationsPage })),
);
const IntegrationCallbackPage = lazy(() =>
  import("./pages/integrations/IntegrationCallbackPage").then((m) => ({ default: m.IntegrationCallbackPage })),
);

/** A page's chunk, loading; if it fails to load or render, a way out instead of a blank app. */
function Lazy() {
  const { pathname } = useLocation();
  return (
    <ErrorBoundary resetKey={pathname}>
      <Suspense fallback={<Loading />}>
        <Outlet />
      </Suspense>
    </ErrorBoundary>
  );
}

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; a 503 or a network error may.
        retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route element={<Lazy />}>
          <Route path="/settings/developers/api-keys" element={<ApiKeysPage />} />
          <Route path="/settings/developers/api-keys/:id" element={<ApiKeyDetailPage />} />
          <Route path="/settings/webhooks" element={<WebhooksPage />} />
          <Route path="/settings/webhooks/:id" element={<WebhookDetailPage />} />
          <Route path="/settings/integrations" element={<IntegrationsPage />} />
          <Route path="/integrations/:provider/callback" element={<IntegrationCallbackPage />} />
        </Route>
        <Route path="*" element={<Navigate to="/settings/developers/api-keys" replace />} />
      </Route>
    </Routes>
  );
}

export function App({ client }: { client: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <AppRoutes />
    </QueryClientProvider>
  );
}
