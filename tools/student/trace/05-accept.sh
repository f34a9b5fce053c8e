# make trace LAB=05: the lines tools/student/trace.sh runs for 05-accept, in its verbs (listed there).
lab_bg srv accept -a 127.0.0.1 -n 2 0
peer connect 127.0.0.1 "$srv_port" "first"
peer connect 127.0.0.1 "$srv_port" "second"
wait_end srv
say "One listening socket (fd 3) for the whole run, and a new connected socket from each accept()."
