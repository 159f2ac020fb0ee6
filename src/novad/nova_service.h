// novad's D-Bus face: org.nova.Nova1 at /org/nova/Nova1. It decodes calls,
// learns the caller's uid from the bus (never from the message), hands the
// work to AgentManager and turns its errors into org.nova.Nova1.Error.*.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <memory>

#include "agent_manager.h"
#include "memory_watch.h"
#include "nova_bus.h"

namespace nova {

class NovaService {
 public:
  NovaService(sdbus::IConnection& connection, AgentManager& manager, MemoryWatcher& watcher);
  ~NovaService();

 private:
  class Adaptor;
  std::unique_ptr<Adaptor> adaptor_;
};

// Decodes Spawn's a{sv} options into a request; unknown keys and wrong types
// are InvalidArgument errors.
SpawnRequest SpawnRequestFromOptions(const std::string& name, const std::vector<std::string>& argv,
                                     const std::map<std::string, sdbus::Variant>& options);

}  // namespace nova
