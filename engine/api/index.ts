/**
 * Assembles the Engine API route table: planned routes as 501 first, then the route modules that
 * work. Route modules for containers/images/networks/exec add themselves after these (Router.add
 * replaces the 501 entry). Builds no server and owns no state.
 */
import type { EventBus } from '../events.js';
import type { VolumeService } from '../volumes/index.js';
import { Router } from './router.js';
import { registerSystemRoutes, type SystemFacts } from './routes/system.js';
import { registerUnimplemented } from './routes/unimplemented.js';
import { registerVolumeRoutes } from './routes/volumes.js';
import type { EngineServices } from './services.js';

/** What the route table needs. */
export interface ApiDeps {
  readonly facts: SystemFacts;
  readonly events: EventBus;
  readonly volumes: VolumeService;
  readonly services: EngineServices;
}

/** The router with every route of this build registered. */
export function buildRouter(deps: ApiDeps): Router {
  const router = new Router();
  registerUnimplemented(router);
  registerSystemRoutes(router, deps);
  registerVolumeRoutes(router, deps.volumes);
  return router;
}

export { Router } from './router.js';
export type { ApiContext, ApiHandler, ApiReply, HttpMethod } from './router.js';
export type { SystemFacts } from './routes/system.js';
