/* The tc-BPF programs' object file, built into pptpgw (io/tcfast.c). */
	.section .rodata
	.balign 8
	.global tcfast_obj
tcfast_obj:
	.incbin TCFAST_OBJ
	.global tcfast_obj_end
tcfast_obj_end:
	.section .note.GNU-stack,"",@progbits
