// novad queues an agent's stop and answers at once; novactl kill waits here
// until the agent is gone: until systemd has unloaded its unit (at once, with
// CollectMode=inactive-or-failed, unless something holds it: then a stopped
// unit is good enough after a moment), within the stop timeout plus 30 s.
#pragma once

#include <string>

namespace nova {

// Says on stderr what it waits for when a graceful stop takes over a second;
// throws Failed when the deadline passes.
void WaitUntilAgentGone(const std::string& name, bool force);

}  // namespace nova
