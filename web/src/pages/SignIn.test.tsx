import { screen, waitFor } from "@testing-library/react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { SignIn } from "./SignIn";
import { mockApi, OWNER, problem, renderPage } from "../test/render";

function renderSignIn(path: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/sign-in" element={<SignIn />} />
          <Route path="/settings/webhooks" element={<p>Webhooks page</p>} />
          <Route path="/settings/developers/api-keys" element={<p>Keys page</p>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("sign-in", () => {
  it("trades the handed-over token for the cookie session and wipes it from the address bar", async () => {
    window.history.replaceState(null, "", "/dashboard/sign-in#token=eyJ.handed.over");
    const calls = mockApi({ "POST /api/v1/platform/session": () => ({ body: OWNER }) });
    renderSignIn("/sign-in?next=%2Fsettings%2Fwebhooks");
    expect(await screen.findByText("Webhooks page")).toBeInTheDocument();
    const exchange = calls.find((c) => c.method === "POST");
    expect(exchange?.headers.Authorization).toBe("Bearer eyJ.handed.over");
    expect(window.location.hash).toBe("");
  });

  it("shows the API's refusal with its request id, and never follows an off-site next", async () => {
    window.history.replaceState(null, "", "/dashboard/sign-in#token=stale");
    mockApi({ "POST /api/v1/platform/session": () => problem(401, "unauthorized", "a valid dashboard session is required") });
    renderSignIn("/sign-in?next=%2F%2Fevil.example");
    expect(await screen.findByRole("alert")).toHaveTextContent("a valid dashboard session is required");
    expect(screen.getByTestId("request-id")).toHaveTextContent("req_abc123");
  });

  it("says the session ended when it was sent back here", () => {
    window.history.replaceState(null, "", "/dashboard/sign-in");
    renderSignIn("/sign-in?reason=expired");
    expect(screen.getByRole("status")).toHaveTextContent("Your session has ended");
  });
});

describe("an expired session", () => {
  it("sends the user to sign in instead of showing a blank page", async () => {
    mockApi({ "GET /api/v1/platform/session": () => problem(401, "unauthorized", "expired") });
    renderPage(<p>secret page</p>, { path: "/settings/webhooks", pattern: "/settings/webhooks" });
    await waitFor(() => expect(screen.getByText("Sign-in page")).toBeInTheDocument());
    expect(screen.queryByText("secret page")).not.toBeInTheDocument();
  });
});
