// The DLPack data structures (the stable C ABI of https://github.com/dmlc/dlpack, v0.x
// "dltensor" capsules, which tf.experimental.dlpack.to_dlpack produces), declared here so
// the module needs no extra dependency. Only what the bindings read is named.
#pragma once

#include <cstdint>

namespace person_segmentation::dlpack {

enum DeviceType : int32_t {
  kCPU = 1,
  kCUDA = 2,
  kCUDAHost = 3,  // pinned host memory: readable by the CPU
  kCUDAManaged = 13,
};

enum DataTypeCode : uint8_t { kInt = 0, kUInt = 1, kFloat = 2, kBfloat = 4 };

struct Device {
  int32_t device_type;
  int32_t device_id;
};

struct DataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct Tensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means compact row-major
  uint64_t byte_offset;
};

struct ManagedTensor {
  Tensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(ManagedTensor* self);
};

}  // namespace person_segmentation::dlpack
