"""The Noderr API (`noderr api`): SIWE sessions, license-gated endpoints, operator
applications, the public auditor API and the credentials vault.

Rooms: `api/` is the HTTP edge (app, dependencies, error translation, routes); the services
(applications, authz, sessions, siwe_auth, batch_mint, typeform, readiness, vault) hold the
rules and import no web framework; `database`, `chain_client`, `caller_cache` and `mirror`
(every query against the indexer's tables) are the infrastructure under them."""
