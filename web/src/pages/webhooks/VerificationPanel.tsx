import { CodeTabs } from "../../components/CodeTabs";
import { verificationExamples } from "./verificationExamples";

/** How a receiver checks that a delivery is genuine. */
export function VerificationPanel() {
  return (
    <section className="panel" aria-labelledby="verify-heading">
      <h2 id="verify-heading">Verify signatures</h2>
      <p>
        Deliveries are signed the <a href="https://www.standardwebhooks.com">Standard Webhooks</a> way: check the{" "}
        <code>webhook-signature</code> header against the raw body before trusting it, refuse timestamps more than 5
        minutes off, and use <code>webhook-id</code> to drop duplicates. Standard library only:
      </p>
      <CodeTabs samples={verificationExamples} label="Verification example language" />
    </section>
  );
}
