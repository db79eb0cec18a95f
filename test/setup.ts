import { SERVICE_TOKEN } from "./callers";

// Jangar's server, as the deployment is configured to recognise it.
process.env.JANGAR_SERVICE_IDENTITIES = `https://other.example|unrelated, ${SERVICE_TOKEN}`;
