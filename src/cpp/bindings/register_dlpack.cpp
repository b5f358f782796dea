// DLPack entry points: `logits` is a capsule of float32 (h, w, 1 + parts) logits, segment
// first, on the CPU (CPU kernels) or a CUDA device (CUDA kernels, only the result is copied to
// the host). Zero-copy in both cases.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <type_traits>

#include "bindings.hpp"
#include "common.hpp"
#include "dlpack_abi.hpp"
#include "dlpack_tensor.hpp"
#include "person_segmentation/postprocess.hpp"
#include "person_segmentation/runtime.hpp"

namespace person_segmentation::bindings {
namespace {

/// A DLPack capsule taken over from its producer: the tensor stays alive until this object
/// goes away, then the producer's deleter runs (the DLPack consumer protocol).
class DlpackLogits {
 public:
  /// Checks a "dltensor" capsule holding float32 logits of shape (h, w, 1 + parts), on the
  /// CPU or a CUDA device, and takes it over (DlpackTensor::take).
  explicit DlpackLogits(const py::capsule& capsule) { tensor_.take(capsule, "logits", "(h, w, channels)"); }

  /// Channel 0 (the segment logits), as (h, w, 1).
  FloatTensorView segment() const {
    FloatTensorView v = tensor_.view();
    v.channels = 1;
    return v;
  }
  /// Channels 1.. (the part logits), as (h, w, channels - 1).
  FloatTensorView parts() const {
    const FloatTensorView& t = tensor_.view();
    if (t.channels < 2)
      throw py::value_error("logits for a part map need 1 + parts channels, got " + std::to_string(t.channels));
    FloatTensorView v = t;
    v.data = t.data + t.stride_channels;
    v.channels = t.channels - 1;
    return v;
  }

 private:
  DlpackTensor tensor_;
};

/// A result (image_height, image_width) of T handed out as a DLPack capsule: in host memory
/// (device (kCPU, 0)) or in device memory of CUDA device `ordinal`; the deleter frees it.
template <typename T>
struct ResultTensor {
  dlpack::ManagedTensor managed{};
  int64_t shape[2] = {0, 0};
  int32_t ordinal = -1;  // -1: host memory (std::malloc)

  static void free_data(void* data, int32_t ordinal) noexcept {
    if (ordinal >= 0)
      free_cuda_result(data, ordinal);
    else
      std::free(data);
  }
  static void deleter(dlpack::ManagedTensor* self) {
    auto* result = static_cast<ResultTensor*>(self->manager_ctx);
    free_data(self->dl_tensor.data, result->ordinal);
    delete result;
  }
};

/// A DLPack capsule's destructor: frees the tensor unless a consumer took it over.
void capsule_destructor(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, "dltensor")) return;  // renamed "used_dltensor": consumed
  auto* managed = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (managed && managed->deleter) managed->deleter(managed);
}

template <typename T>
constexpr uint8_t dlpack_code() {
  return std::is_signed_v<T> ? dlpack::kInt : dlpack::kUInt;
}

/// Runs `fill(out)` into a new buffer where the kernels run (device memory of the logits'
/// device for the CUDA kernels, host memory for the CPU ones), without the GIL, and returns
/// (capsule, (device_type, device_id), (height, width)).
template <typename T, typename Fill>
py::tuple compute_kept(const DlpackLogits& input, const ResizePadGeometry& geometry, PostprocessOptions options,
                       const Fill& fill) {
  validate_geometry(geometry);
  const int32_t ordinal = postprocess_cuda_device(input.segment(), options);
  const size_t bytes =
      static_cast<size_t>(geometry.image_height) * static_cast<size_t>(geometry.image_width) * sizeof(T);
  void* data = ordinal >= 0 ? allocate_cuda_result(bytes, ordinal) : std::malloc(bytes == 0 ? 1 : bytes);
  if (data == nullptr) throw std::bad_alloc();
  auto* result = new ResultTensor<T>;
  result->ordinal = ordinal;
  result->shape[0] = geometry.image_height;
  result->shape[1] = geometry.image_width;
  try {
    options.output_device = ordinal >= 0 ? Device::kCuda : Device::kCpu;
    {
      py::gil_scoped_release release;
      fill(options, static_cast<T*>(data));
    }
  } catch (...) {
    ResultTensor<T>::free_data(data, ordinal);
    delete result;
    throw;
  }
  dlpack::Tensor& t = result->managed.dl_tensor;
  t.data = data;
  t.device = dlpack::Device{ordinal >= 0 ? dlpack::kCUDA : dlpack::kCPU, ordinal >= 0 ? ordinal : 0};
  t.ndim = 2;
  t.dtype = dlpack::DataType{dlpack_code<T>(), static_cast<uint8_t>(8 * sizeof(T)), 1};
  t.shape = result->shape;
  t.strides = nullptr;
  t.byte_offset = 0;
  result->managed.manager_ctx = result;
  result->managed.deleter = &ResultTensor<T>::deleter;
  PyObject* capsule = PyCapsule_New(&result->managed, "dltensor", capsule_destructor);
  if (capsule == nullptr) {
    ResultTensor<T>::deleter(&result->managed);
    throw py::error_already_set();
  }
  return py::make_tuple(py::reinterpret_steal<py::object>(capsule),
                        py::make_tuple(static_cast<int>(t.device.device_type), t.device.device_id),
                        py::make_tuple(result->shape[0], result->shape[1]));
}

PostprocessOptions dlpack_options(double threshold, bool flip_horizontal, int num_threads, const std::string& device,
                                  uintptr_t stream, bool logits_ready_on_stream) {
  PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
  options.cuda_stream = reinterpret_cast<void*>(stream);
  options.logits_ready_on_stream = logits_ready_on_stream;
  return options;
}

constexpr const char* kDlpackOptionsDoc =
    " device 'cuda' runs the CUDA kernels on logits in host memory too. stream is the cudaStream_t to run on (as an "
    "int; 0 the default stream, 1 cudaStreamLegacy, 2 cudaStreamPerThread: the numbering of DLPack's stream= "
    "argument); logits_ready_on_stream says that the producer ordered its writes before that stream (else, for device "
    "logits on the default stream, the device is synchronised first). result_on_device leaves the result where the "
    "kernels ran and returns (capsule, (dlpack_device_type, device_id), (height, width)) instead of an array.";

}  // namespace

void register_dlpack(py::module_& m) {
  m.def(
      "person_mask_dlpack",
      [](const py::capsule& logits, const ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads, const std::string& device, uintptr_t stream, bool ready,
         bool result_on_device) -> py::object {
        const DlpackLogits input(logits);
        const PostprocessOptions options =
            dlpack_options(threshold, flip_horizontal, num_threads, device, stream, ready);
        if (result_on_device)
          return compute_kept<uint8_t>(input, geometry, options, [&](const PostprocessOptions& o, uint8_t* dst) {
            person_mask(input.segment(), geometry, o, dst);
          });
        return compute<uint8_t>(geometry, [&](uint8_t* dst) { person_mask(input.segment(), geometry, options, dst); });
      },
      (std::string("person_mask of an unused DLPack capsule of float32 (h, w, 1 + parts) logits, segment first, "
                   "zero-copy: in CPU memory the CPU kernels run, on a CUDA device the CUDA kernels (only the result "
                   "is copied to the host). The capsule is consumed.") +
       kDlpackOptionsDoc)
          .c_str(),
      py::arg("logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0, py::arg("device") = "cpu", py::arg("stream") = 0,
      py::arg("logits_ready_on_stream") = false, py::arg("result_on_device") = false);

  m.def(
      "part_segmentation_dlpack",
      [](const py::capsule& logits, const ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads, const std::string& device, uintptr_t stream, bool ready,
         bool result_on_device) -> py::object {
        const DlpackLogits input(logits);
        const PostprocessOptions options =
            dlpack_options(threshold, flip_horizontal, num_threads, device, stream, ready);
        const FloatTensorView parts = input.parts();
        if (result_on_device)
          return compute_kept<int32_t>(input, geometry, options, [&](const PostprocessOptions& o, int32_t* dst) {
            part_segmentation(input.segment(), parts, geometry, o, dst);
          });
        return compute<int32_t>(
            geometry, [&](int32_t* dst) { part_segmentation(input.segment(), parts, geometry, options, dst); });
      },
      (std::string("part_segmentation of an unused DLPack capsule of float32 (h, w, 1 + parts) logits, segment "
                   "first, zero-copy, on the CPU or a CUDA device as person_mask_dlpack. The capsule is consumed.") +
       kDlpackOptionsDoc)
          .c_str(),
      py::arg("logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0, py::arg("device") = "cpu", py::arg("stream") = 0,
      py::arg("logits_ready_on_stream") = false, py::arg("result_on_device") = false);
}

}  // namespace person_segmentation::bindings
