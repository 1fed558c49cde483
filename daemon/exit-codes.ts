// Exit statuses from sysexits.h, so systemd and scripts can tell what went wrong.
export const EXIT = {
  OK: 0,
  /** The model file is corrupt or not a BitNet model. */
  DATA_ERROR: 65,
  /** The model file does not exist. */
  NO_INPUT: 66,
  /** No engine addon runs on this machine (none built, or built for another CPU or C library). */
  UNAVAILABLE: 69,
  /** A bug. */
  SOFTWARE: 70,
  /** The socket could not be created. */
  CANT_CREATE: 73,
  /** A temporary failure (the model download broke off): systemd tries again. */
  TEMP_FAIL: 75,
  /** The configuration is invalid. */
  CONFIG: 78,
} as const;
