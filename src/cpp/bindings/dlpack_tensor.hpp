// A DLPack capsule taken over from its producer (the DLPack consumer protocol): a float32
// (h, w, c) tensor in CPU or CUDA memory, viewed as a FloatTensorView, alive until this
// object goes away, then the producer's deleter runs.
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "dlpack_abi.hpp"
#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::bindings {

namespace py = pybind11;

class DlpackTensor {
 public:
  DlpackTensor() = default;
  ~DlpackTensor() {
    if (managed_ && managed_->deleter) managed_->deleter(managed_);
  }
  DlpackTensor(const DlpackTensor&) = delete;
  DlpackTensor& operator=(const DlpackTensor&) = delete;

  /// Checks a "dltensor" capsule holding a float32 3-D tensor (`shape` is its expected shape
  /// in words, for the messages) on the CPU or a CUDA device, and takes it over. Raises
  /// TypeError/ValueError naming `name` (leaving the capsule untouched) when it is not one.
  void take(const py::capsule& capsule, const char* name, const char* shape) {
    const std::string n(name);
    const std::string capsule_name(capsule.name() ? capsule.name() : "");
    if (capsule_name != "dltensor")
      throw py::value_error(n +
                            " must be an unused DLPack capsule (named 'dltensor'), e.g. from "
                            "tf.experimental.dlpack.to_dlpack; got one named '" +
                            capsule_name + "'");
    auto* managed = static_cast<dlpack::ManagedTensor*>(capsule.get_pointer());
    const dlpack::Tensor& t = managed->dl_tensor;
    if (t.dtype.code != dlpack::kFloat || t.dtype.bits != 32 || t.dtype.lanes != 1)
      throw py::type_error(n + " must be float32, got DLPack dtype code " + std::to_string(t.dtype.code) + " with " +
                           std::to_string(t.dtype.bits) + " bits");
    if (t.ndim != 3)
      throw py::value_error(n + " must have shape " + shape + ", got " + std::to_string(t.ndim) + " dimensions");
    const int32_t type = t.device.device_type;
    if (type != dlpack::kCPU && type != dlpack::kCUDAHost && type != dlpack::kCUDA && type != dlpack::kCUDAManaged)
      throw py::value_error(n + " must be in CPU or CUDA memory, got DLPack device type " + std::to_string(type));
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
    // The producer's device number (TensorFlow's is its own logical index, not the CUDA
    // ordinal): the core takes the device from the pointer instead.
    view_.device_id = on_device ? std::max(0, t.device.device_id) : 0;
    // Taken over: the producer must no longer free it when the capsule dies.
    if (PyCapsule_SetName(capsule.ptr(), "used_dltensor") != 0) throw py::error_already_set();
    managed_ = managed;
  }

  const FloatTensorView& view() const { return view_; }

 private:
  FloatTensorView view_;
  dlpack::ManagedTensor* managed_ = nullptr;
};

}  // namespace person_segmentation::bindings
