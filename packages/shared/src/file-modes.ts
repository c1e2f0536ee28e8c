/*
 * Modes of everything userprobe writes — results, evidence, spools: they hold
 * what the agents saw of a tenant's product, so only the user running
 * userprobe may read them. Applied when a file or folder is created (the
 * umask can only narrow them further).
 */

/** Files: read and write for the owner only. */
export const PRIVATE_FILE_MODE = 0o600;
/** Folders: the owner only. */
export const PRIVATE_DIR_MODE = 0o700;
