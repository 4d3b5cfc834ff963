// Live policy management in the running agent: apply, delete and list over the control
// socket, with the policy directory kept as what is in force (so a restart finds it again).
#pragma once

#include <string>
#include <vector>

#include "core/event_ring.hpp"
#include "policy/policy.hpp"
#include "sensors/sensor.hpp"

namespace waggle {

class PolicyControl {
 public:
  // `enforcer` may be null when this kernel cannot enforce policies (`why` says why).
  PolicyControl(Sensor* enforcer, std::string why, EventRing& ring, std::vector<Policy> in_force,
                std::string dir)
      : enforcer_(enforcer),
        why_(std::move(why)),
        ring_(ring),
        in_force_(std::move(in_force)),
        dir_(std::move(dir)) {}

  // Answers one control request (see control_socket.hpp for the framing).
  std::string handle(const std::string& request);

 private:
  std::string apply(const std::string& source, const std::string& yaml);
  std::string remove(const std::string& name);
  std::string list() const;
  // Puts `next` in force; on success it becomes in_force_.
  bool put_in_force(std::vector<Policy> next, std::string* error);

  Sensor* enforcer_;
  std::string why_;
  EventRing& ring_;
  std::vector<Policy> in_force_;
  std::string dir_;
};

}  // namespace waggle
