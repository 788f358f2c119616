//===- attngen.cpp - the attngen command line -----------------------------===//

#include "attngen/Driver/AttngenMain.h"

int main(int argc, char **argv) { return attngen::attngenMain(argc, argv); }
