#!/usr/bin/env bash
# Build and install Asterisk 22 from a source tree: the steps of ../shared/real-asterisk/build.sh (configure,
# menuselect with one option group per call, make, make install, no samples, no sound downloads), plus what a
# deployment needs that the benchmark build leaves out: PJSIP (bundled pjproject) and chan_dahdi.
#
#   build-asterisk.sh SOURCE_DIR [DESTDIR]
#
# The image's build stage runs it (docker/asterisk/Dockerfile), and so does tests/deploy/test_asterisk_build.py
# outside Docker when CALLCENTER_ASTERISK_BUILD=1 (about 15 minutes on 2 cores). Debian 12 packages of
# build-packages.txt must be installed. Installs under /usr with the configuration in /etc/asterisk and state in
# /var, into DESTDIR when given (staging). ASTERISK_PJSIP=no builds without PJSIP (no pjproject download);
# EXTERNALS_CACHE_DIR may hold pjproject's tarball for a build without internet.
set -euo pipefail

SRC=${1:?usage: build-asterisk.sh SOURCE_DIR [DESTDIR]}
DESTDIR=${2:-}
JOBS=${JOBS:-$(nproc)}
cd "$SRC"

# --- configure ---------------------------------------------------------------------------------------------
pjproject=--with-pjproject-bundled
[ "${ASTERISK_PJSIP:-yes}" = no ] && pjproject=--without-pjproject-bundled
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir=/usr/lib \
    --with-jansson-bundled=no "$pjproject" >configure.log

# --- menuselect (as build.sh: one option group per call; several in one call silently did not apply) -------
make menuselect.makeopts
M=menuselect/menuselect
for category in MENUSELECT_TESTS MENUSELECT_ADDONS MENUSELECT_CORE_SOUNDS MENUSELECT_MOH MENUSELECT_EXTRA_SOUNDS \
        MENUSELECT_CDR MENUSELECT_CEL MENUSELECT_UTILS MENUSELECT_CHANNELS; do
    $M --disable-category "$category" menuselect.makeopts
done
for module in app_voicemail app_minivm app_festival app_queue app_agent_pool app_confbridge res_config_ldap \
        res_calendar; do
    $M --disable "$module" menuselect.makeopts
done
# Only the channels callcenter-ari's modules.conf loads: PJSIP phones and trunks, DAHDI cards, media bridges (Local
# channels are in the core).
for channel in chan_pjsip chan_dahdi chan_bridge_media chan_rtp; do
    $M --enable "$channel" menuselect.makeopts
done
# An image runs on other processors than the one that built it: no -march=native.
$M --disable BUILD_NATIVE menuselect.makeopts
grep -E '^MENUSELECT_(CHANNELS|APPS)=' menuselect.makeopts || true  # what is left out, for the build log

# --- build and install (no `make samples`: the configuration is callcenter-ari's asterisk/etc) -------------
make -j"$JOBS"
make install DESTDIR="$DESTDIR"
