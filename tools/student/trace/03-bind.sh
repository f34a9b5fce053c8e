# make trace LAB=03: the lines tools/student/trace.sh runs for 03-bind, in its verbs (listed there).
say "Port 0: the kernel chooses; only getsockname() tells the program which port it got."
lab_bg b0 bind -a 127.0.0.1 0
stop b0
lab_bg srv bind -l -a 127.0.0.1 0
lab bind -a 127.0.0.1 "$srv_port"
say "The forgotten htons: look at sin_port in the bind() call above and below."
lab_bg h bind -H -a 127.0.0.1 8080
stop h
peer connect 127.0.0.1 "$srv_port"
say "The handshake completed although the program never calls accept(): the kernel does it for"
say "a listening socket. The probe then closed its end (FIN); nobody ever accepts the server side."
stop srv
