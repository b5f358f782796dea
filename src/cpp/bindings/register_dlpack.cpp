// DLPack entry points: `logits` is a capsule of float32 (h, w, 1 + parts) logits, segment
// first, on the CPU (CPU kernels) or a CUDA device (CUDA kernels, only the result is copied to
// the host). Zero-copy in both cases.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "common.hpp"
#include "dlpack_abi.hpp"
#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::bindings {
namespace {

/// A DLPack capsule taken over from its producer: the tensor stays alive until this object
/// goes away, then the producer's deleter runs (the DLPack consumer protocol).
class DlpackLogits {
 public:
  /// Checks a "dltensor" capsule holding float32 logits of shape (h, w, 1 + parts), on the
  /// CPU or a CUDA device, and takes it over. Raises TypeError/ValueError (leaving the
  /// capsule untouched) when it is not one.
  explicit DlpackLogits(const py::capsule& capsule) {
    if (std::string(capsule.name() ? capsule.name() : "") != "dltensor")
      throw py::value_error(
          "logits must be an unused DLPack capsule (named 'dltensor'), e.g. from "
          "tf.experimental.dlpack.to_dlpack; got one named '" +
          std::string(capsule.name() ? capsule.name() : "") + "'");
    auto* managed = static_cast<dlpack::ManagedTensor*>(capsule.get_pointer());
    const dlpack::Tensor& t = managed->dl_tensor;
    if (t.dtype.code != dlpack::kFloat || t.dtype.bits != 32 || t.dtype.lanes != 1)
      throw py::type_error("logits must be float32, got DLPack dtype code " + std::to_string(t.dtype.code) + " with " +
                           std::to_string(t.dtype.bits) + " bits");
    if (t.ndim != 3)
      throw py::value_error("logits must have shape (h, w, channels), got " + std::to_string(t.ndim) + " dimensions");
    const int32_t type = t.device.device_type;
    if (type != dlpack::kCPU && type != dlpack::kCUDAHost && type != dlpack::kCUDA && type != dlpack::kCUDAManaged)
      throw py::value_error("logits must be in CPU or CUDA memory, got DLPack device type " + std::to_string(type));
    const int64_t h = t.shape[0], w = t.shape[1], c = t.shape[2];
    view_.data = reinterpret_cast<const float*>(static_cast<const char*>(t.data) + t.byte_offset);
    view_.height = h;
    view_.width = w;
    view_.channels = c;
    view_.stride_height = t.strides ? t.strides[0] : w * c;
    view_.stride_width = t.strides ? t.strides[1] : c;
    view_.stride_channels = t.strides ? t.strides[2] : 1;
    const bool on_device = type == dlpack::kCUDA || type == dlpack::kCUDAManaged;
    view_.device = on_device ? Device::kCuda : Device::kCpu;
    view_.device_id = on_device ? t.device.device_id : 0;
    // Taken over: the producer must no longer free it when the capsule dies.
    if (PyCapsule_SetName(capsule.ptr(), "used_dltensor") != 0) throw py::error_already_set();
    managed_ = managed;
  }
  ~DlpackLogits() {
    if (managed_ && managed_->deleter) managed_->deleter(managed_);
  }
  DlpackLogits(const DlpackLogits&) = delete;
  DlpackLogits& operator=(const DlpackLogits&) = delete;

  /// Channel 0 (the segment logits), as (h, w, 1).
  FloatTensorView segment() const {
    FloatTensorView v = view_;
    v.channels = 1;
    return v;
  }
  /// Channels 1.. (the part logits), as (h, w, channels - 1).
  FloatTensorView parts() const {
    if (view_.channels < 2)
      throw py::value_error("logits for a part map need 1 + parts channels, got " + std::to_string(view_.channels));
    FloatTensorView v = view_;
    v.data = view_.data + view_.stride_channels;
    v.channels = view_.channels - 1;
    return v;
  }

 private:
  FloatTensorView view_;
  dlpack::ManagedTensor* managed_ = nullptr;
};

}  // namespace

void register_dlpack(py::module_& m) {
  m.def(
      "person_mask_dlpack",
      [](const py::capsule& logits, const ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads) {
        const DlpackLogits input(logits);
        const PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads);
        return compute<uint8_t>(geometry, [&](uint8_t* dst) { person_mask(input.segment(), geometry, options, dst); });
      },
      "person_mask of an unused DLPack capsule of float32 (h, w, 1 + parts) logits, segment first, zero-copy: "
      "in CPU memory the CPU kernels run, on a CUDA device the CUDA kernels (only the result is copied to the "
      "host). The capsule is consumed.",
      py::arg("logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0);

  m.def(
      "part_segmentation_dlpack",
      [](const py::capsule& logits, const ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads) {
        const DlpackLogits input(logits);
        const PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads);
        const FloatTensorView parts = input.parts();
        return compute<int32_t>(
            geometry, [&](int32_t* dst) { part_segmentation(input.segment(), parts, geometry, options, dst); });
      },
      "part_segmentation of an unused DLPack capsule of float32 (h, w, 1 + parts) logits, segment first, "
      "zero-copy, on the CPU or a CUDA device as person_mask_dlpack. The capsule is consumed.",
      py::arg("logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0);
}

}  // namespace person_segmentation::bindings
