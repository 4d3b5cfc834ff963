#include "core/bpf_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/bpf_log.hpp"
#include "core/event_ring.hpp"

namespace waggle {

bool share_ring_maps(bpf_object* obj, const EventRing& ring, std::string* error) {
  for (auto [name, fd] : {std::pair{"events", ring.events_fd()}, std::pair{"drops", ring.drops_fd()}}) {
    bpf_map* map = bpf_object__find_map_by_name(obj, name);
    if (!map) {
      *error = fmt::format("BPF object has no map named {}", name);
      return false;
    }
    int err = bpf_map__reuse_fd(map, fd);
    if (err) {
      *error = fmt::format("cannot share map {}: {}", name, strerror(-err));
      return false;
    }
  }
  return true;
}

bool load_object(bpf_object* obj, const std::string& sensor, std::string* error) {
  capture_libbpf_log();
  take_libbpf_log();
  int err = bpf_object__load(obj);
  if (err == 0) return true;
  *error = fmt::format("{} sensor: the kernel refused its BPF programs ({}):\n{}", sensor, strerror(-err),
                       trim_verifier_log(take_libbpf_log()));
  return false;
}

bool Attachment::attach_all(bpf_object* obj, const std::string& sensor, std::string* error,
                            bool (*first)(const bpf_program*)) {
  // A section without a target ("tracepoint") is reached by tail calls, not attached.
  auto attachable = [](const bpf_program* prog) {
    return bpf_program__autoload(prog) &&
           std::string_view(bpf_program__section_name(prog)).find('/') != std::string_view::npos;
  };
  std::vector<bpf_program*> order;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (attachable(prog) && first && first(prog)) order.push_back(prog);
  }
  bpf_object__for_each_program(prog, obj) {
    if (attachable(prog) && !(first && first(prog))) order.push_back(prog);
  }
  for (bpf_program* prog : order) {
    take_libbpf_log();
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      int err = errno;
      *error = fmt::format("{} sensor: cannot attach {} ({}): {}", sensor, bpf_program__section_name(prog),
                           strerror(err), trim_verifier_log(take_libbpf_log(), 5));
      detach();
      return false;
    }
    links_.push_back(link);
  }
  return true;
}

void Attachment::detach() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
}

void Attachment::program_stats(std::vector<ProgramStats>* out) const {
  for (bpf_link* link : links_) {
    bpf_link_info link_info{};
    uint32_t len = sizeof(link_info);
    if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &link_info, &len) != 0) continue;
    int fd = bpf_prog_get_fd_by_id(link_info.prog_id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
      out->push_back({info.name, info.run_cnt, info.run_time_ns});
    close(fd);
  }
}

bool tracepoint_exists(const std::string& tracefs, const std::string& category, const std::string& name) {
  return access(fmt::format("{}/events/{}/{}/id", tracefs, category, name).c_str(), F_OK) == 0;
}

}  // namespace waggle
