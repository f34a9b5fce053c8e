# make trace LAB=12: the lines tools/student/trace.sh runs for 12-echo, in its verbs (listed there).
lab_bg srv echo_sv 127.0.0.1 0
printf 'first line\nsecond line\n' >"$TRACE_OUT/input"
LAB_STDIN=$TRACE_OUT/input lab echo_cl 127.0.0.1 "$srv_port"
say "The client sent its input, half-closed (its FIN), and printed the echo up to the server's FIN."
stop srv
