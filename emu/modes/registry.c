/*
 * registry.c — the list of modes. Adding a mode is one line here plus its own file(s).
 */
#include <string.h>

#include "emu/modes/mode.h"

const struct mode_ops *const vmlab_modes[] = {
    &mode_native,
    &mode_trap,
    &mode_trap_ept,
    &mode_trap_classic,
    &mode_pv,
    &mode_bt,
    NULL,
};

const struct mode_ops *mode_find(const char *name)
{
    for (int i = 0; vmlab_modes[i]; i++)
        if (strcmp(vmlab_modes[i]->name, name) == 0)
            return vmlab_modes[i];
    return NULL;
}
