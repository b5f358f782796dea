// The private pybind11 module `person_segmentation._core`: a thin layer over the C++ core.
// It converts numpy arrays to views (checking dtype, rank and strides), allocates the
// results, and releases the GIL while the kernels run. All validation of sizes and options
// happens in the C++ core, whose std::invalid_argument becomes a Python ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "dlpack_abi.hpp"
#include "person_segmentation/person_segmentation.hpp"

namespace py = pybind11;
namespace ps = person_segmentation;

namespace {

std::string shape_string(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

/// A (h, w, c) view of a float32 numpy array; a 2-D array is read as (h, w, 1) when
/// `allow_2d`. Raises TypeError for another dtype and ValueError for another rank.
ps::FloatTensorView view_of(const py::array& a, const char* name, bool allow_2d) {
  if (!a.dtype().equal(py::dtype::of<float>())) {
    throw py::type_error(std::string(name) + " must be a float32 array, got dtype " +
                         std::string(py::str(a.dtype())));
  }
  if (!(a.ndim() == 3 || (allow_2d && a.ndim() == 2))) {
    throw py::value_error(std::string(name) + (allow_2d ? " must have shape (h, w) or (h, w, 1)" : " must have shape (h, w, channels)") +
                          ", got shape " + shape_string(a));
  }
  constexpr py::ssize_t item = static_cast<py::ssize_t>(sizeof(float));
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.strides(i) % item != 0) {
      throw py::value_error(std::string(name) + " has a stride that is not a multiple of 4 bytes (misaligned view)");
    }
  }
  ps::FloatTensorView v;
  v.data = static_cast<const float*>(a.data());
  v.height = a.shape(0);
  v.width = a.shape(1);
  v.stride_height = a.strides(0) / item;
  v.stride_width = a.strides(1) / item;
  if (a.ndim() == 3) {
    v.channels = a.shape(2);
    v.stride_channels = a.strides(2) / item;
  } else {
    v.channels = 1;
    v.stride_channels = 1;
  }
  return v;
}

/// A (h, w, 3) view of a uint8 or float32 numpy image (any strides). Raises TypeError for
/// another dtype and ValueError for another shape.
ps::ImageView image_view_of(const py::array& a) {
  ps::ImageView v;
  py::ssize_t item = 1;
  if (a.dtype().equal(py::dtype::of<uint8_t>())) {
    v.type = ps::PixelType::kUint8;
  } else if (a.dtype().equal(py::dtype::of<float>())) {
    v.type = ps::PixelType::kFloat32;
    item = static_cast<py::ssize_t>(sizeof(float));
  } else {
    throw py::type_error("image must be a uint8 or float32 array, got dtype " + std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 3 || a.shape(2) != 3)
    throw py::value_error("image must have shape (H, W, 3), got shape " + shape_string(a));
  for (py::ssize_t i = 0; i < 3; ++i) {
    if (a.strides(i) % item != 0)
      throw py::value_error("image has a stride that is not a multiple of its item size (misaligned view)");
  }
  v.data = a.data();
  v.height = a.shape(0);
  v.width = a.shape(1);
  v.channels = 3;
  v.stride_height = a.strides(0) / item;
  v.stride_width = a.strides(1) / item;
  v.stride_channels = a.strides(2) / item;
  return v;
}

ps::Device device_of(const std::string& device) {
  if (device == "cpu") return ps::Device::kCpu;
  if (device == "cuda") return ps::Device::kCuda;
  throw py::value_error("device must be 'cpu' or 'cuda', got '" + device + "'");
}

ps::PostprocessOptions options_of(double threshold, bool flip_horizontal, int num_threads,
                                  const std::string& device = "cpu") {
  ps::PostprocessOptions o;
  o.segmentation_threshold = static_cast<float>(threshold);
  o.flip_horizontal = flip_horizontal;
  o.num_threads = num_threads;
  o.compute_device = device_of(device);
  return o;
}

/// Allocates the (image_height, image_width) result, then runs `fill(result_data)` without the
/// GIL. The geometry is validated first, since the result's size comes from it.
template <typename T, typename Fill>
py::array_t<T> compute(const ps::ResizePadGeometry& geometry, const Fill& fill) {
  ps::validate_geometry(geometry);
  py::array_t<T> out({static_cast<py::ssize_t>(geometry.image_height), static_cast<py::ssize_t>(geometry.image_width)});
  T* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    fill(dst);
  }
  return out;
}

/// A DLPack capsule taken over from its producer: the tensor stays alive until this object
/// goes away, then the producer's deleter runs (the DLPack consumer protocol).
class DlpackLogits {
 public:
  /// Checks a "dltensor" capsule holding float32 logits of shape (h, w, 1 + parts), on the
  /// CPU or a CUDA device, and takes it over. Raises TypeError/ValueError (leaving the
  /// capsule untouched) when it is not one.
  explicit DlpackLogits(const py::capsule& capsule) {
    if (std::string(capsule.name() ? capsule.name() : "") != "dltensor")
      throw py::value_error("logits must be an unused DLPack capsule (named 'dltensor'), e.g. from "
                            "tf.experimental.dlpack.to_dlpack; got one named '" +
                            std::string(capsule.name() ? capsule.name() : "") + "'");
    auto* managed = static_cast<ps::dlpack::ManagedTensor*>(capsule.get_pointer());
    const ps::dlpack::Tensor& t = managed->dl_tensor;
    if (t.dtype.code != ps::dlpack::kFloat || t.dtype.bits != 32 || t.dtype.lanes != 1)
      throw py::type_error("logits must be float32, got DLPack dtype code " + std::to_string(t.dtype.code) +
                           " with " + std::to_string(t.dtype.bits) + " bits");
    if (t.ndim != 3)
      throw py::value_error("logits must have shape (h, w, channels), got " + std::to_string(t.ndim) + " dimensions");
    const int32_t type = t.device.device_type;
    if (type != ps::dlpack::kCPU && type != ps::dlpack::kCUDAHost && type != ps::dlpack::kCUDA &&
        type != ps::dlpack::kCUDAManaged)
      throw py::value_error("logits must be in CPU or CUDA memory, got DLPack device type " + std::to_string(type));
    const int64_t h = t.shape[0], w = t.shape[1], c = t.shape[2];
    view_.data = reinterpret_cast<const float*>(static_cast<const char*>(t.data) + t.byte_offset);
    view_.height = h;
    view_.width = w;
    view_.channels = c;
    view_.stride_height = t.strides ? t.strides[0] : w * c;
    view_.stride_width = t.strides ? t.strides[1] : c;
    view_.stride_channels = t.strides ? t.strides[2] : 1;
    const bool on_device = type == ps::dlpack::kCUDA || type == ps::dlpack::kCUDAManaged;
    view_.device = on_device ? ps::Device::kCuda : ps::Device::kCpu;
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
  ps::FloatTensorView segment() const {
    ps::FloatTensorView v = view_;
    v.channels = 1;
    return v;
  }
  /// Channels 1.. (the part logits), as (h, w, channels - 1).
  ps::FloatTensorView parts() const {
    if (view_.channels < 2)
      throw py::value_error("logits for a part map need 1 + parts channels, got " + std::to_string(view_.channels));
    ps::FloatTensorView v = view_;
    v.data = view_.data + view_.stride_channels;
    v.channels = view_.channels - 1;
    return v;
  }

 private:
  ps::FloatTensorView view_;
  ps::dlpack::ManagedTensor* managed_ = nullptr;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native post-processing core of person_segmentation (private; use the Python API).";
  m.attr("__version__") = std::to_string(PERSON_SEGMENTATION_VERSION_MAJOR) + "." +
                          std::to_string(PERSON_SEGMENTATION_VERSION_MINOR) + "." +
                          std::to_string(PERSON_SEGMENTATION_VERSION_PATCH);

  py::class_<ps::ResizePadGeometry>(m, "ResizePadGeometry")
      .def(py::init([](int32_t image_height, int32_t image_width, int32_t model_height,
                       int32_t model_width, int32_t resized_height, int32_t resized_width,
                       int32_t pad_top, int32_t pad_bottom, int32_t pad_left, int32_t pad_right) {
             ps::ResizePadGeometry g{image_height, image_width, model_height, model_width,
                                     resized_height, resized_width, pad_top, pad_bottom,
                                     pad_left, pad_right};
             ps::validate_geometry(g);
             return g;
           }),
           py::kw_only(), py::arg("image_height"), py::arg("image_width"), py::arg("model_height"),
           py::arg("model_width"), py::arg("resized_height"), py::arg("resized_width"),
           py::arg("pad_top"), py::arg("pad_bottom"), py::arg("pad_left"), py::arg("pad_right"))
      .def_readonly("image_height", &ps::ResizePadGeometry::image_height)
      .def_readonly("image_width", &ps::ResizePadGeometry::image_width)
      .def_readonly("model_height", &ps::ResizePadGeometry::model_height)
      .def_readonly("model_width", &ps::ResizePadGeometry::model_width)
      .def_readonly("resized_height", &ps::ResizePadGeometry::resized_height)
      .def_readonly("resized_width", &ps::ResizePadGeometry::resized_width)
      .def_readonly("pad_top", &ps::ResizePadGeometry::pad_top)
      .def_readonly("pad_bottom", &ps::ResizePadGeometry::pad_bottom)
      .def_readonly("pad_left", &ps::ResizePadGeometry::pad_left)
      .def_readonly("pad_right", &ps::ResizePadGeometry::pad_right)
      .def("__eq__", [](const ps::ResizePadGeometry& a, const ps::ResizePadGeometry& b) { return a == b; })
      .def("__hash__", [](const ps::ResizePadGeometry& g) {
        return py::hash(py::make_tuple(g.image_height, g.image_width, g.model_height, g.model_width,
                                       g.resized_height, g.resized_width, g.pad_top, g.pad_bottom,
                                       g.pad_left, g.pad_right));
      })
      .def("__repr__", [](const ps::ResizePadGeometry& g) { return ps::to_string(g); });

  m.def("compute_geometry", &ps::compute_geometry, py::arg("image_height"), py::arg("image_width"),
        py::arg("model_height") = ps::kModelHeight, py::arg("model_width") = ps::kModelWidth);

  m.def(
      "person_mask",
      [](const py::array& segment_logits, const ps::ResizePadGeometry& geometry, double threshold,
         bool flip_horizontal, int num_threads, const std::string& device) {
        const ps::FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const ps::PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
        return compute<uint8_t>(geometry, [&](uint8_t* dst) { ps::person_mask(seg, geometry, options, dst); });
      },
      py::arg("segment_logits"), py::arg("geometry"), py::kw_only(),
      py::arg("segmentation_threshold") = 0.5, py::arg("flip_horizontal") = false,
      py::arg("num_threads") = 0, py::arg("device") = "cpu");

  m.def(
      "part_segmentation",
      [](const py::array& segment_logits, const py::array& part_logits,
         const ps::ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads, const std::string& device) {
        const ps::FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const ps::FloatTensorView parts = view_of(part_logits, "part_logits", false);
        const ps::PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
        return compute<int32_t>(geometry, [&](int32_t* dst) { ps::part_segmentation(seg, parts, geometry, options, dst); });
      },
      py::arg("segment_logits"), py::arg("part_logits"), py::arg("geometry"), py::kw_only(),
      py::arg("segmentation_threshold") = 0.5, py::arg("flip_horizontal") = false,
      py::arg("num_threads") = 0, py::arg("device") = "cpu");

  // DLPack entry points: `logits` is a capsule of float32 (h, w, 1 + parts) logits, segment
  // first, on the CPU (CPU kernels) or a CUDA device (CUDA kernels, only the result is copied
  // to the host). Zero-copy in both cases.
  m.def(
      "person_mask_dlpack",
      [](const py::capsule& logits, const ps::ResizePadGeometry& geometry, double threshold,
         bool flip_horizontal, int num_threads) {
        const DlpackLogits input(logits);
        const ps::PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads);
        return compute<uint8_t>(geometry, [&](uint8_t* dst) { ps::person_mask(input.segment(), geometry, options, dst); });
      },
      py::arg("logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0);

  m.def(
      "part_segmentation_dlpack",
      [](const py::capsule& logits, const ps::ResizePadGeometry& geometry, double threshold,
         bool flip_horizontal, int num_threads) {
        const DlpackLogits input(logits);
        const ps::PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads);
        const ps::FloatTensorView parts = input.parts();
        return compute<int32_t>(geometry, [&](int32_t* dst) { ps::part_segmentation(input.segment(), parts, geometry, options, dst); });
      },
      py::arg("logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0);

  // Pre-processing: the model input of an image, written into `out` (allocated when None).
  m.def(
      "resize_pad_normalize",
      [](const py::array& image, const ps::ResizePadGeometry& geometry, bool flip_horizontal,
         const py::object& out, int num_threads) -> py::array {
        const ps::ImageView view = image_view_of(image);
        ps::validate_geometry(geometry);
        const py::ssize_t mh = geometry.model_height, mw = geometry.model_width;
        py::array_t<float> result;
        if (out.is_none()) {
          result = py::array_t<float>({mh, mw, py::ssize_t{3}});
        } else {
          if (!py::isinstance<py::array>(out))
            throw py::type_error("out must be None or a float32 numpy array");
          py::array given = py::reinterpret_borrow<py::array>(out);
          if (!given.dtype().equal(py::dtype::of<float>()))
            throw py::type_error("out must be a float32 array, got dtype " + std::string(py::str(given.dtype())));
          const bool shape_ok = (given.ndim() == 3 && given.shape(0) == mh && given.shape(1) == mw && given.shape(2) == 3) ||
                                (given.ndim() == 4 && given.shape(0) == 1 && given.shape(1) == mh &&
                                 given.shape(2) == mw && given.shape(3) == 3);
          if (!shape_ok)
            throw py::value_error("out must have shape (" + std::to_string(mh) + ", " + std::to_string(mw) + ", 3) or (1, " +
                                  std::to_string(mh) + ", " + std::to_string(mw) + ", 3), got " + shape_string(given));
          if (!(given.flags() & py::array::c_style)) throw py::value_error("out must be C-contiguous");
          if (!given.writeable()) throw py::value_error("out must be writeable");
          result = py::reinterpret_borrow<py::array_t<float>>(given);
        }
        ps::PreprocessOptions options;
        options.flip_horizontal = flip_horizontal;
        options.num_threads = num_threads;
        float* dst = result.mutable_data();
        {
          py::gil_scoped_release release;
          ps::resize_pad_normalize(view, geometry, options, dst);
        }
        return result;
      },
      py::arg("image"), py::arg("geometry"), py::kw_only(), py::arg("flip_horizontal") = false,
      py::arg("out") = py::none(), py::arg("num_threads") = 1);

  m.def("default_num_threads", &ps::default_num_threads);
  m.def("cuda_compiled", &ps::cuda_compiled);
  m.def("cuda_device_count", &ps::cuda_device_count);
  m.def("build_summary", &ps::build_summary);
}
