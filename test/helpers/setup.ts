import { SERVICE_TOKEN } from "./callers";
import { GITHUB_SECRET } from "./senders/github";

// Jangar's server, as the deployment is configured to recognise it.
process.env.JANGAR_SERVICE_IDENTITIES = `https://other.example|unrelated, ${SERVICE_TOKEN}`;
process.env.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET;
