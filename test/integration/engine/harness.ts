/** The engine integration tests' harness: the shared engine helpers in test/helpers/engine.ts. */
export * from '../../helpers/engine';
