// Compile-time configuration of the installed core: its version, as the macros
// PERSON_SEGMENTATION_VERSION ("0.1.0"), PERSON_SEGMENTATION_VERSION_MAJOR, _MINOR and _PATCH
// of the version.hpp that CMake generates from the package's one version source.
#pragma once

#include "person_segmentation/version.hpp"
