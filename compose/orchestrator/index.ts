/**
 * The orchestrator's public surface (observe -> reconcile -> plan -> execute), for cli/.
 * Re-exports only; see docs/orchestrator.md.
 */
export * from './labels.js';
export * from './translate.js';
export * from './observe.js';
export * from './plan.js';
export * from './reconcile.js';
export * from './execute.js';
export * from './progress.js';
export * from './external.js';
