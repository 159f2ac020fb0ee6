// novad's D-Bus face: org.nova.Nova1 at /org/nova/Nova1, on the bus thread.
// Every method is asynchronous: the handler learns the caller's uid and pid
// from the bus (never from the message) and decodes the call at once, then
// queues the work (CallDispatch: a worker's AgentManager, or the watcher's
// thread for a relief) and returns; the reply, or the
// org.nova.Nova1.Error.* it ended with, is sent when the work is done.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <memory>

#include "agent_manager.h"
#include "call_dispatch.h"
#include "memory_watch.h"
#include "nova_bus.h"

namespace nova {

class NovaService {
 public:
  NovaService(sdbus::IConnection& connection, CallDispatch& dispatch);
  ~NovaService();

 private:
  class Adaptor;
  std::unique_ptr<Adaptor> adaptor_;
};

// Who sent a call, from the bus's GetConnectionCredentials reply;
// PermissionDenied when the uid or the pid is missing or not a uint32.
struct CallerCreds {
  uint32_t uid = 0;
  uint32_t pid = 0;
};
CallerCreds CallerCredsFromBus(const std::map<std::string, sdbus::Variant>& credentials);

// Decodes Spawn's a{sv} options into a request; unknown keys and wrong types
// are InvalidArgument errors.
SpawnRequest SpawnRequestFromOptions(const std::string& name, const std::vector<std::string>& argv,
                                     const std::map<std::string, sdbus::Variant>& options);

}  // namespace nova
