import { screen, waitFor } from "@testing-library/react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
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

  it.each(["//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example", "settings/webhooks"])(
    "never follows an off-site or odd next (%j): it lands on the keys page",
    async (next) => {
      window.history.replaceState(null, "", "/dashboard/sign-in#token=eyJ.handed.over");
      mockApi({ "POST /api/v1/platform/session": () => ({ body: OWNER }) });
      renderSignIn(`/sign-in?next=${encodeURIComponent(next)}`);
      expect(await screen.findByText("Keys page")).toBeInTheDocument();
    },
  );

  it("sends the user to the PenguinMails app, to come back to this page and then to next", () => {
    vi.stubEnv("VITE_SIGN_IN_URL", "https://app.penguinmails.example/sign-in");
    try {
      window.history.replaceState(null, "", "/dashboard/sign-in");
      renderSignIn("/sign-in?reason=expired&next=%2Fsettings%2Fwebhooks");
      const link = screen.getByRole("link", { name: "Sign in with PenguinMails" });
      const returnTo = new URL(link.getAttribute("href")!).searchParams.get("return_to");
      // The sign-in page, the only one that reads #token=, with the page to go on to.
      expect(returnTo).toBe(`${window.location.origin}/dashboard/sign-in?next=%2Fsettings%2Fwebhooks`);
    } finally {
      vi.unstubAllEnvs();
    }
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
