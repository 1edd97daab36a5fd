print("netscript")
