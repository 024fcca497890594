/*
 * vmx.h — VT-x basic exit reasons as an enum (from vmx_exits.def), for the monitors.
 */
#ifndef VMLAB_VMX_H
#define VMLAB_VMX_H

enum vmx_exit {
#define VMX_EXIT(n, name) VMX_##name = n,
#include "emu/vmx_exits.def"
#undef VMX_EXIT
};

#endif
