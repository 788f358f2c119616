//===- AttngenMain.h - the attngen command line -----------------*- C++ -*-===//

#ifndef ATTNGEN_DRIVER_ATTNGENMAIN_H
#define ATTNGEN_DRIVER_ATTNGENMAIN_H

namespace attngen {

/// Runs the `attngen` CLI; returns the process exit status.
int attngenMain(int argc, char **argv);

} // namespace attngen

#endif // ATTNGEN_DRIVER_ATTNGENMAIN_H
