// jest globalSetup of the root tiers: records the host's links, so the leftover check
// (test/helpers/leftovers.js) can name any link the run created and did not remove.
module.exports = require('./leftovers').recordLinks;
