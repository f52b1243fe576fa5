/**
 * Durations as Docker prints them in `docker ps` ("Up 5 seconds", "Exited (0) About a minute
 * ago"): shared by the engine's container Status and the CLI's `ps` columns. Text only.
 */

/**
 * A duration in ms as docker says it (go-units `HumanDuration`): `Less than a second`,
 * `1 second`, `5 seconds`, `About a minute`, `3 minutes`, `About an hour`, `2 hours`, `3 days`,
 * `2 weeks`, `4 months`, `2 years`. Negative durations count as 0. Never throws.
 */
export function humanDuration(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}
