// Loading a sensor's BPF object: handing it the shared ring and drop maps, loading with the
// verifier's log kept for errors, attaching every program chosen to load, and detaching.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_link;
struct bpf_program;

namespace waggle {

class EventRing;

// Makes the object's "events" and "drops" maps the ring's. Call before load.
bool share_ring_maps(bpf_object* obj, const EventRing& ring, std::string* error);

// Loads the object; on failure *error names the sensor and holds the trimmed verifier log.
bool load_object(bpf_object* obj, const std::string& sensor, std::string* error);

// What the kernel counted for one program (with BPF statistics enabled; else zeros).
struct ProgramStats {
  std::string name;
  uint64_t runs = 0;
  uint64_t run_time_ns = 0;
};

// The links of one sensor's attached programs; destroying it detaches them all.
class Attachment {
 public:
  Attachment() = default;
  ~Attachment() { detach(); }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

  // Attaches every program of obj that was loaded, those for which `first` is true before
  // the others. All or nothing.
  bool attach_all(bpf_object* obj, const std::string& sensor, std::string* error,
                  bool (*first)(const bpf_program*) = nullptr);
  // Takes a link attached by other means (e.g. to a cgroup); it is detached with the rest.
  void add(bpf_link* link) { links_.push_back(link); }
  void detach();
  size_t size() const { return links_.size(); }
  // The counters of every attached program, appended to *out.
  void program_stats(std::vector<ProgramStats>* out) const;

 private:
  std::vector<bpf_link*> links_;
};

// Whether a tracepoint "category/name" exists on this kernel (tracefs must be mounted).
bool tracepoint_exists(const std::string& tracefs, const std::string& category, const std::string& name);

}  // namespace waggle
