//go:build !noxla

package backend

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

// The head of PJRT_Api (pjrt_c_api.h): its size, its extensions, then PJRT_Api_Version.
typedef struct { size_t struct_size; void* extension_start; int major_version; int minor_version; } gs_pjrt_version;
typedef struct { size_t struct_size; void* extension_start; gs_pjrt_version pjrt_api_version; } gs_pjrt_api_head;

static int gs_pjrt_api_version(const char* path, int* major, int* minor) {
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) return -1;
	const void* (*get)(void) = (const void* (*)(void)) dlsym(h, "GetPjrtApi");
	if (!get) return -2;
	const gs_pjrt_api_head* api = (const gs_pjrt_api_head*) get();
	if (!api) return -3;
	*major = api->pjrt_api_version.major_version;
	*minor = api->pjrt_api_version.minor_version;
	return 0;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// pjrtVersionInProcess loads the plugin at path into this process and reads its PJRT API version. A broken
// plugin can crash the process: call it only in a child (PJRTVersion).
func pjrtVersionInProcess(path string) (major, minor int, err error) {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	var ma, mi C.int
	switch C.gs_pjrt_api_version(cs, &ma, &mi) {
	case -1:
		return 0, 0, fmt.Errorf("dlopen failed: %s", C.GoString(C.dlerror()))
	case -2:
		return 0, 0, fmt.Errorf("no GetPjrtApi")
	case -3:
		return 0, 0, fmt.Errorf("GetPjrtApi returned no API")
	}
	return int(ma), int(mi), nil
}
