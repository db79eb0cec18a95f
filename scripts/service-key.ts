// `npm run service-key`: a new signing key for Jangar's server (docs/server.md#authentication).
// The private key goes to Jangar's server only; the deployment gets the public key set.
import { generateServiceKey } from "../client";

const { privateKey, jwks } = await generateServiceKey();
console.log(`# Jangar's server (keep it secret, as you keep CONVEX_DEPLOY_KEY):
JANGAR_SERVICE_KEY='${privateKey}'

# The deployment (public; during a rotation, list the old and the new keys together):
npx convex env set JANGAR_SERVICE_JWKS '${jwks}'
npx convex env set JANGAR_SERVICE_IDENTITIES 'https://jangar.internal|jangar-server'`);
