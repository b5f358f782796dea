// The run-time queries of runtime.hpp.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "person_segmentation/runtime.hpp"

namespace person_segmentation::bindings {

namespace py = pybind11;

void register_runtime(pybind11::module_& m) {
  m.def("default_num_threads", &default_num_threads,
        "The number of worker threads num_threads=0 resolves to on this machine.");
  m.def("cuda_compiled", &cuda_compiled, "Whether the CUDA kernels were compiled into this build.");
  m.def("cuda_device_count", &cuda_device_count,
        "Usable CUDA devices: 0 without CUDA support, a driver or a device (never raises).");
  m.def(
      "cuda_runtime_info",
      [] {
        const CudaRuntimeInfo info = cuda_runtime_info();
        py::dict d;
        d["runtime_version"] = info.runtime_version;
        d["driver_version"] = info.driver_version;
        d["devices"] = info.devices;
        d["usable_devices"] = info.usable_devices;
        d["unavailable_reason"] = info.unavailable_reason;
        return d;
      },
      "The CUDA runtime this build links and what it finds: runtime_version and driver_version (CUDA versions as "
      "1000 * major + 10 * minor, 0 for none), devices, usable_devices and unavailable_reason ('' when a device is "
      "usable). Never raises.");
  m.def("build_summary", &build_summary,
        "What this build of the core contains: version, compiler, CPU threads and whether CUDA is compiled in.");
}

}  // namespace person_segmentation::bindings
