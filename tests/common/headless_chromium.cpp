#include "headless_chromium.hpp"

#include <cstdio>
#include <cstdlib>

namespace waggle::test {

std::string chromium(const std::filesystem::path& work_dir, const std::string& profile, const std::string& args,
                     const std::string& url) {
  const std::string command = std::string("timeout 120 ") + kChromium +
                              " --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir=" +
                              (work_dir / profile).string() + " " + args + " '" + url + "' 2>" +
                              (work_dir / (profile + ".log")).string();
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    pclose(pipe);
  }
  return out;
}

std::filesystem::path artifact_dir() {
  if (const char* dir = getenv("WAGGLE_ARTIFACTS"); dir && *dir) return dir;
#ifdef WAGGLE_BUILD_DIR
  return std::filesystem::path(WAGGLE_BUILD_DIR) / "artifacts";
#else
  return std::filesystem::current_path() / "artifacts";
#endif
}

}  // namespace waggle::test
